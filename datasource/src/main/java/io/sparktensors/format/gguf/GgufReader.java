package io.sparktensors.format.gguf;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.DType;
import io.sparktensors.format.FormatReader;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.StructureInput;
import io.sparktensors.format.TensorData;
import io.sparktensors.format.TensorListing;
import io.sparktensors.io.FolderFiles;
import io.sparktensors.io.InputFile;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Lists the tensors of a GGUF file ({@code .gguf}, llama.cpp's format), versions 2 and 3, little-endian.
 *
 * <p>Every key/value pair goes into the listing's metadata under its key: scalars and strings as text, arrays
 * summarized as e.g. {@code "[array of 151936 string]"}; {@code gguf.version} is added. GGUF lists dimensions
 * innermost first; shapes here are reversed to the usual row-major order. F32, F16, BF16, F64, I8, I16, I32
 * and I64 tensors are plain ranges. Q8_0 and Q4_0 tensors are dequantized to F32 by a splittable decoder when
 * {@code dequantize} is set, and refused otherwise; any other quantized type is refused. A refusal is a
 * {@link MalformedTensorFileException} naming the tensor and its type.
 */
public final class GgufReader implements FormatReader {
    /** The format's short name. */
    public static final String NAME = "gguf";
    /** ggml's GGML_MAX_DIMS: no ggml tensor has more dimensions. */
    static final int MAX_DIMS = 4;

    private static final int MAGIC = 0x46554747; // "GGUF" read little-endian
    private static final long DEFAULT_ALIGNMENT = 32;
    private static final String ALIGNMENT_KEY = "general.alignment";
    /** Metadata value types, by code. */
    private static final String[] VALUE_TYPES = {
        "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64",
        "float64"
    };

    private static final int STRING = 8;
    private static final int ARRAY = 9;
    /** Bytes of each metadata value type with a fixed size (0 for string and array). */
    private static final int[] VALUE_BYTES = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

    private final boolean dequantize;

    /** @param dequantize whether Q8_0 and Q4_0 tensors are dequantized to F32 (else they are refused) */
    public GgufReader(boolean dequantize) {
        this.dequantize = dequantize;
    }

    @Override
    public int recognitionBytes() {
        return 4;
    }

    @Override
    public boolean recognizes(byte[] start) {
        return start.length >= 4 && io.sparktensors.format.LittleEndian.getInt(start, 0) == MAGIC;
    }

    @Override
    public String name() {
        return NAME;
    }

    /** A tensor info as the header states it: dims innermost first, offset from the data section. */
    private record Header(String name, long[] dims, long type, long offset) {}

    /** A checked tensor info: shape row-major, start in the file. */
    private record Info(String name, long[] shape, long elements, GgmlType type, long start, long storedBytes) {}

    @Override
    public TensorListing list(InputFile file, FolderFiles folder, ReadLimits limits) throws IOException {
        String location = file.location();
        long length = file.length();
        try (SeekableInput in = file.open(ReadPolicy.RANDOM)) {
            StructureInput s = new StructureInput(in, location, length, limits.maxHeaderBytes());
            int version = header(s);
            long tensorCount = s.readInt64();
            if (tensorCount < 0 || tensorCount > limits.maxTensors()) {
                throw s.fault("it declares " + Long.toUnsignedString(tensorCount) + " tensors, more than the limit of "
                        + limits.maxTensors() + ". If the file is trusted, raise the read option maxTensors.");
            }
            long kvCount = s.readInt64();
            // Each pair takes at least 13 bytes: key length, value type, a one-byte value.
            if (kvCount < 0 || kvCount > s.remaining() / 13) {
                throw s.fault("it declares " + Long.toUnsignedString(kvCount) + " metadata pairs, more than its "
                        + length + " bytes can hold. The file is corrupt.");
            }
            Map<String, String> metadata = new LinkedHashMap<>();
            long alignment = DEFAULT_ALIGNMENT;
            for (long i = 0; i < kvCount; i++) {
                String key = string(s, "a metadata key");
                long type = s.readUInt32();
                if (metadata.containsKey(key)) {
                    throw s.fault(
                            "the metadata key '" + MalformedTensorFileException.printable(key) + "' appears twice");
                }
                if (key.equals(ALIGNMENT_KEY)) {
                    alignment = alignment(s, type);
                    metadata.put(key, Long.toString(alignment));
                } else {
                    metadata.put(key, value(s, type, 1, limits.maxNesting()));
                }
            }
            metadata.put("gguf.version", Integer.toString(version));
            List<Header> headers = new ArrayList<>();
            for (long i = 0; i < tensorCount; i++) {
                String name = string(s, "a tensor name");
                headers.add(new Header(name, dims(s, name), s.readUInt32(), s.readInt64()));
            }
            long dataStart = alignUp(s, s.position(), alignment);
            List<Info> infos = new ArrayList<>();
            Set<String> seen = new HashSet<>();
            for (Header h : headers) {
                if (!seen.add(h.name())) {
                    throw new MalformedTensorFileException(location, h.name(), "two tensors have this name");
                }
                infos.add(info(location, length, h, dataStart, alignment));
            }
            checkOverlaps(location, infos);
            List<StoredTensor> tensors = new ArrayList<>();
            for (Info t : infos) {
                tensors.add(tensor(location, length, t));
            }
            return new TensorListing(location, tensors, metadata, List.of());
        }
    }

    private static int header(StructureInput s) throws IOException {
        if (s.fileLength() < 4 || (int) s.readUInt32() != MAGIC) {
            throw s.fault("it does not start with the GGUF magic bytes \"GGUF\"; it is not a GGUF file.");
        }
        long version = s.readUInt32();
        if (version == 2 || version == 3) {
            return (int) version;
        }
        if (version == 1) {
            throw s.fault("it is GGUF version 1, which is not supported (only 2 and 3). Convert it again with a "
                    + "current llama.cpp.");
        }
        int swapped = Integer.reverseBytes((int) version);
        if (swapped == 2 || swapped == 3) {
            throw s.fault("it is a big-endian GGUF file, which is not supported. Use the little-endian file.");
        }
        throw s.fault("it is GGUF version " + version + ", which is not supported (only 2 and 3).");
    }

    private static String string(StructureInput s, String what) throws IOException {
        long n = s.readInt64();
        if (n < 0 || n > s.remaining()) {
            throw s.fault(what + " at byte " + (s.position() - 8) + " declares " + Long.toUnsignedString(n)
                    + " bytes, beyond the end of the file at byte " + s.fileLength()
                    + ". The file is truncated or corrupt.");
        }
        return new String(s.readBytes(n), StandardCharsets.UTF_8);
    }

    /** A metadata value of {@code type} as text: scalars and strings as they are, arrays summarized. */
    private static String value(StructureInput s, long type, int depth, int maxNesting) throws IOException {
        return switch ((int) Math.min(type, Integer.MAX_VALUE)) {
            case 0 -> Integer.toString(s.readByte());
            case 1 -> Integer.toString((byte) s.readByte());
            case 2 -> Long.toString(unsigned(s, 2));
            case 3 -> Integer.toString((short) unsigned(s, 2));
            case 4 -> Long.toString(s.readUInt32());
            case 5 -> Integer.toString((int) s.readUInt32());
            case 6 -> Float.toString(Float.intBitsToFloat((int) s.readUInt32()));
            case 7 -> bool(s);
            case STRING -> string(s, "a metadata string");
            case ARRAY -> array(s, depth, maxNesting);
            case 10 -> Long.toUnsignedString(s.readInt64());
            case 11 -> Long.toString(s.readInt64());
            case 12 -> Double.toString(Double.longBitsToDouble(s.readInt64()));
            default ->
                throw s.fault("the metadata value type " + type + " before byte " + s.position()
                        + " is unknown. The file is corrupt or from a newer GGUF version.");
        };
    }

    private static long unsigned(StructureInput s, int bytes) throws IOException {
        long v = 0;
        for (int i = 0; i < bytes; i++) {
            v |= (long) s.readByte() << (8 * i);
        }
        return v;
    }

    private static String bool(StructureInput s) throws IOException {
        int b = s.readByte();
        if (b > 1) {
            throw s.fault("a bool metadata value at byte " + (s.position() - 1) + " is " + b + ", neither 0 nor 1");
        }
        return Boolean.toString(b == 1);
    }

    /** Skips an array's elements (checking each nested length) and returns its summary. */
    private static String array(StructureInput s, int depth, int maxNesting) throws IOException {
        if (depth >= maxNesting) {
            throw s.fault("its metadata arrays nest deeper than the limit of " + maxNesting + ". If the file is "
                    + "trusted, raise the read option maxNesting.");
        }
        long type = s.readUInt32();
        long count = s.readInt64();
        if (type >= VALUE_TYPES.length) {
            throw s.fault("the array element type " + type + " before byte " + s.position() + " is unknown");
        }
        // Strings take at least their 8-byte length, arrays their 4-byte type and 8-byte count.
        int least = type == STRING ? 8 : type == ARRAY ? 12 : VALUE_BYTES[(int) type];
        if (count < 0 || count > s.remaining() / least) {
            throw s.fault("an array at byte " + s.position() + " declares " + Long.toUnsignedString(count) + " "
                    + VALUE_TYPES[(int) type]
                    + " elements, more than the rest of the file can hold. The file is corrupt.");
        }
        if (type == STRING) {
            for (long i = 0; i < count; i++) {
                long n = s.readInt64();
                if (n < 0 || n > s.remaining()) {
                    throw s.fault("a string in an array declares " + Long.toUnsignedString(n)
                            + " bytes, beyond the end " + "of the file. The file is truncated or corrupt.");
                }
                s.skip(n);
            }
        } else if (type == ARRAY) {
            for (long i = 0; i < count; i++) {
                array(s, depth + 1, maxNesting);
            }
        } else {
            s.skip(count * least);
        }
        return "[array of " + count + " " + VALUE_TYPES[(int) type] + "]";
    }

    private static long alignment(StructureInput s, long type) throws IOException {
        if (type != 4) {
            throw s.fault(ALIGNMENT_KEY + " must be a uint32, found value type " + type);
        }
        long a = s.readUInt32();
        if (a == 0 || (a & (a - 1)) != 0) {
            throw s.fault(ALIGNMENT_KEY + " is " + a + ", not a power of two");
        }
        return a;
    }

    private static long[] dims(StructureInput s, String name) throws IOException {
        long n = s.readUInt32();
        if (n > MAX_DIMS) {
            throw new MalformedTensorFileException(
                    s.location(), name, "it has " + n + " dimensions; GGUF tensors have " + "at most " + MAX_DIMS);
        }
        long[] dims = new long[(int) n];
        for (int i = 0; i < n; i++) {
            dims[i] = s.readInt64();
            if (dims[i] < 0) {
                throw new MalformedTensorFileException(
                        s.location(),
                        name,
                        "dimension " + i + " is " + Long.toUnsignedString(dims[i]) + ", beyond 63 bits");
            }
        }
        return dims;
    }

    private static long alignUp(StructureInput s, long position, long alignment) throws MalformedTensorFileException {
        long aligned = (position + alignment - 1) / alignment * alignment;
        if (aligned < position) {
            throw s.fault("the data section start overflows");
        }
        return aligned;
    }

    private Info info(String location, long fileLength, Header h, long dataStart, long alignment)
            throws MalformedTensorFileException {
        String name = h.name();
        long[] ggufDims = h.dims();
        long offset = h.offset();
        GgmlType type = GgmlType.of(h.type());
        if (type == null) {
            throw new MalformedTensorFileException(
                    location,
                    name,
                    "its ggml type " + h.type() + " is unknown. The file " + "is corrupt or from a newer llama.cpp.");
        }
        long[] shape = new long[ggufDims.length];
        long elements = 1;
        try {
            for (int i = 0; i < ggufDims.length; i++) {
                shape[ggufDims.length - 1 - i] = ggufDims[i];
                elements = Math.multiplyExact(elements, ggufDims[i]);
            }
        } catch (ArithmeticException e) {
            throw new MalformedTensorFileException(
                    location, name, "its dimensions " + Arrays.toString(ggufDims) + " overflow 64 bits");
        }
        long stored;
        if (type.plain != null) {
            stored = bytes(location, name, elements, type.plain.bits() / 8);
        } else if (!type.dequantizable()) {
            throw new MalformedTensorFileException(
                    location,
                    name,
                    "it is stored as " + type + ", a quantization this "
                            + "reader does not decode (only Q8_0 and Q4_0, with the dequantize option). Convert the model to F16, "
                            + "F32, Q8_0 or Q4_0 with llama.cpp.");
        } else if (!dequantize) {
            throw new MalformedTensorFileException(
                    location, name, "it is stored as " + type + "; set the dequantize " + "option to read it as F32.");
        } else if (ggufDims.length == 0 || ggufDims[0] % type.blockElements != 0) {
            throw new MalformedTensorFileException(
                    location,
                    name,
                    "its innermost dimension " + (ggufDims.length == 0 ? 1 : ggufDims[0]) + " is not a multiple of the "
                            + type + " block of " + type.blockElements);
        } else {
            stored = bytes(location, name, elements / type.blockElements, type.blockBytes);
        }
        if (offset < 0 || offset % alignment != 0) {
            throw new MalformedTensorFileException(
                    location,
                    name,
                    "its offset " + Long.toUnsignedString(offset) + " is not a multiple of the alignment " + alignment);
        }
        if (offset > fileLength - dataStart || stored > fileLength - dataStart - offset) {
            throw new MalformedTensorFileException(
                    location,
                    name,
                    "its " + stored + " bytes at data offset " + offset
                            + " lie beyond the end of the file (" + fileLength + " bytes, data from byte " + dataStart
                            + "). The "
                            + "file is truncated.");
        }
        return new Info(name, shape, elements, type, dataStart + offset, stored);
    }

    private static long bytes(String location, String name, long units, int unitBytes)
            throws MalformedTensorFileException {
        try {
            return Math.multiplyExact(units, unitBytes);
        } catch (ArithmeticException e) {
            throw new MalformedTensorFileException(location, name, "its size in bytes overflows 64 bits");
        }
    }

    private static void checkOverlaps(String location, List<Info> infos) throws MalformedTensorFileException {
        List<Info> sorted = new ArrayList<>(infos);
        sorted.sort(Comparator.comparingLong(Info::start));
        for (int i = 1; i < sorted.size(); i++) {
            Info previous = sorted.get(i - 1);
            if (sorted.get(i).start() < previous.start() + previous.storedBytes()) {
                throw new MalformedTensorFileException(
                        location,
                        sorted.get(i).name(),
                        "its data overlaps that of '" + MalformedTensorFileException.printable(previous.name())
                                + "'. The file is corrupt.");
            }
        }
    }

    private static StoredTensor tensor(String location, long fileLength, Info t) {
        if (t.type().plain != null) {
            return new StoredTensor(
                    t.name(),
                    t.type().plain,
                    t.shape(),
                    TensorData.plain(location, fileLength, t.start(), t.storedBytes()));
        }
        long rows = t.shape().length == 0 ? 1 : t.shape()[0];
        BlockDecoder decoder = new BlockDecoder(location, t.name(), t.type(), t.start(), rows, t.elements());
        return new StoredTensor(
                t.name(),
                DType.F32,
                t.shape(),
                new TensorData(location, fileLength, t.start(), t.elements() * 4, decoder));
    }
}
