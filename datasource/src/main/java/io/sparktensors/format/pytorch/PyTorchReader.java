package io.sparktensors.format.pytorch;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.DType;
import io.sparktensors.format.FormatReader;
import io.sparktensors.format.LittleEndian;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorData;
import io.sparktensors.format.TensorListing;
import io.sparktensors.format.pytorch.Pickled.ElementType;
import io.sparktensors.format.pytorch.Pickled.Global;
import io.sparktensors.format.pytorch.Pickled.NumpyArray;
import io.sparktensors.format.pytorch.Pickled.PyDict;
import io.sparktensors.format.pytorch.Pickled.PyList;
import io.sparktensors.format.pytorch.Pickled.Storage;
import io.sparktensors.format.pytorch.Pickled.Tensor;
import io.sparktensors.format.pytorch.Pickled.Tuple;
import io.sparktensors.format.zip.ZipDirectory;
import io.sparktensors.format.zip.ZipMember;
import io.sparktensors.io.FolderFiles;
import io.sparktensors.io.InputFile;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import java.io.EOFException;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lists the tensors of a {@code torch.save} file ({@code .pt}, {@code .pth}, {@code .bin}): the zip format
 * (any top-level folder, {@code <folder>/data.pkl}, stored records {@code <folder>/data/<key>}, optional
 * {@code <folder>/byteorder}, ZIP64) and the legacy format of {@code _use_new_zipfile_serialization=False}
 * (magic number, protocol version and system-info pickles, the main pickle, the storage key list, then
 * each storage as an 8-byte little-endian element count and its bytes).
 *
 * <p>The pickle is read by a {@link RestrictedUnpickler}: protocols 2 to 5, an exact allowlist of torch
 * globals, nothing imported or called. In the symbolic mode (the default) other globals are inert names, so
 * a whole pickled {@code nn.Module} lists its state_dict and numpy arrays of safetensors dtypes are tensors
 * (held in the pickle: a plain range when it stores them as raw bytes, else decoded from a copy held in the
 * listing, at most {@link #MAX_INLINE_BYTES}); the strict mode refuses any global off the allowlist. Tensors are named by their path in the object tree (see {@link TensorPaths};
 * a bare tensor is named {@value TensorPaths#BARE_TENSOR_NAME}); other values are reported in
 * {@link TensorListing#skipped()}, as are complex128 and quantized tensors. Tied tensors (one storage, the
 * same view) keep one name as safetensors' converter does ({@link SharedStorages}, which also says where
 * it keeps more than convert.py); the listing metadata holds {@code "format": "pt"} and each dropped name
 * mapped to the name kept, like {@code convert.py}'s metadata.
 *
 * <p>A contiguous little-endian view is a plain byte range; a strided view or a big-endian storage (zip
 * {@code byteorder} "big") is read through a {@link StorageViewDecoder}. The legacy format's storages are
 * always little-endian (torch's raw storage writer converts them), whatever its {@code little_endian} flag
 * says of the machine that wrote it. Tensor records must be stored, not deflated. Reads one file; the
 * sharded layout with {@code pytorch_model.bin.index.json} is assembled by the caller.
 */
public final class PyTorchReader implements FormatReader {
    /** The format name. */
    public static final String NAME = "pytorch";
    /** Most dimensions of a tensor; torch itself allows far fewer in practice. */
    static final int MAX_RANK = 64;

    private static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    private static final long LEGACY_PROTOCOL_VERSION = 1001;
    /** The byteorder record holds "little" or "big". */
    private static final int MAX_BYTEORDER_BYTES = 16;

    private static final int PICKLE_PROTO = 0x80;
    /**
     * Largest numpy array held in the listing, for arrays whose bytes are not found as they are in the file
     * (protocol 2 pickles them as a latin-1 string; a deflated data.pkl); larger ones are skipped.
     */
    static final int MAX_INLINE_BYTES = 16 << 20;

    private final boolean symbolic;

    /** A reader in the symbolic pickle mode, the default. */
    public PyTorchReader() {
        this(true);
    }

    /**
     * @param symbolic whether globals outside the allowlist become inert symbols (whole modules and numpy
     *     arrays are read) rather than refused
     */
    public PyTorchReader(boolean symbolic) {
        this.symbolic = symbolic;
    }

    /**
     * Whether a file's first bytes could start a {@code torch.save} file: a zip archive, or the legacy
     * format's leading pickle. Used to tell PyTorch {@code .bin} files from other {@code .bin} files (ONNX
     * external data) in a folder.
     */
    public static boolean looksLikeTorchFile(byte[] start) {
        return ZipDirectory.looksLikeZip(start) || (start.length >= 2 && (start[0] & 0xff) == 0x80 && start[1] >= 2);
    }

    @Override
    public int recognitionBytes() {
        return 4;
    }

    @Override
    public boolean recognizes(byte[] start) {
        return looksLikeTorchFile(start);
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * Lists {@code file}, reading a whole rank file alone: a {@code DTensor} is listed as this rank's local shard
     * under its name, and the listing metadata says so (key {@value #DTENSOR_NOTE}), with advice to read all the
     * rank files together, which {@code format.dcp.DTensorRanksReader} assembles into full tensors.
     */
    @Override
    public TensorListing list(InputFile file, FolderFiles folder, ReadLimits limits) throws IOException {
        RankListing rank = listRank(file, limits);
        if (rank.dtensors().isEmpty()) {
            return rank.listing();
        }
        TensorListing l = rank.listing();
        DTensorSpec any = rank.dtensors().values().iterator().next();
        Map<String, String> metadata = new LinkedHashMap<>(l.metadata());
        metadata.put(
                DTENSOR_NOTE,
                rank.dtensors().size() + " tensors are DTensors, listed as the local shard this rank (coordinate "
                        + Arrays.toString(any.coordinate()) + " of a mesh of " + Arrays.toString(any.meshShape())
                        + ") saved; read the folder of every rank's file for the full tensors");
        return new TensorListing(l.location(), l.tensors(), metadata, l.skipped());
    }

    /** The listing metadata key that marks a rank file's DTensors listed as local shards. */
    public static final String DTENSOR_NOTE = "dtensor";

    /**
     * A file's tensors and, for each that is a {@code DTensor} (listed as this rank's local shard), its spec.
     *
     * @param dtensors the specs by tensor name, in listing order
     */
    public record RankListing(TensorListing listing, Map<String, DTensorSpec> dtensors) {
        public RankListing {
            dtensors = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(dtensors));
        }
    }

    /** Lists {@code file} with the spec of every DTensor in it (a rank file of a per-rank save). */
    public RankListing listRank(InputFile file, ReadLimits limits) throws IOException {
        String location = file.location();
        long length = file.length();
        try (SeekableInput in = file.open(ReadPolicy.RANDOM)) {
            byte[] start = new byte[(int) Math.min(4, length)];
            in.readFully(0, start, 0, start.length);
            Loaded loaded;
            if (ZipDirectory.looksLikeZip(start)) {
                loaded = readZip(location, in, length, limits);
            } else if (start.length > 0 && (start[0] & 0xff) == PICKLE_PROTO) {
                loaded = readLegacy(location, in, length, limits);
            } else {
                throw new MalformedTensorFileException(
                        location,
                        null,
                        "it is not a PyTorch checkpoint: it is neither"
                                + " a torch.save zip archive nor the legacy torch.save format (it starts with the bytes "
                                + HexFormat.of().formatHex(start) + "). Check the file's format.");
            }
            return listing(location, length, loaded, limits);
        } catch (EOFException e) {
            throw new MalformedTensorFileException(
                    location, null, "the file ends early (" + e.getMessage() + "). It is truncated; copy it again.", e);
        }
    }

    /** The unpickled tree and where each storage's bytes are. */
    private record Loaded(Object root, StorageTable storages, Map<String, Long> offsets, boolean bigEndian) {}

    private Loaded readZip(String location, SeekableInput in, long length, ReadLimits limits) throws IOException {
        ZipDirectory dir = ZipDirectory.read(location, in, length, limits);
        String prefix = archiveFolder(location, dir);
        boolean bigEndian = bigEndian(location, in, dir, prefix);
        ZipMember pickleMember = dir.member(prefix + "data.pkl");
        byte[] pickle = dir.contents(in, pickleMember, limits.maxHeaderBytes());
        StorageTable storages = new StorageTable(location, length, false, limits);
        long pickleOffset = pickleMember.isStored() ? pickleMember.dataOffset() : -1;
        Object root =
                RestrictedUnpickler.load(PickleInput.of(location, pickle, pickleOffset), limits, storages, symbolic);
        Map<String, Long> offsets = new HashMap<>();
        for (Storage s : storages.byKey.values()) {
            String record = prefix + "data/" + s.key();
            ZipMember m = dir.member(record);
            if (m == null) {
                throw fault(
                        location,
                        "the pickle refers to storage '" + printable(s.key()) + "' but the archive has no" + " record '"
                                + printable(record) + "'. The file is incomplete; save it again.");
            }
            if (!m.isStored()) {
                throw fault(
                        location,
                        "the storage record '" + printable(record) + "' is compressed (method "
                                + m.method()
                                + "); tensor records must be stored uncompressed, as torch.save writes them. Load and"
                                + " save the checkpoint again with torch.save.");
            }
            long bytes = storages.bytes(s.key());
            if (m.uncompressedSize() != bytes) {
                throw fault(
                        location,
                        "the storage record '" + printable(record) + "' holds " + m.uncompressedSize()
                                + " bytes but the pickle declares " + s.numel() + " elements of "
                                + s.type().torchName() + " ("
                                + bytes + " bytes). The file is corrupt or truncated.");
            }
            offsets.put(s.key(), m.dataOffset());
        }
        return new Loaded(root, storages, offsets, bigEndian);
    }

    /** The one top-level folder holding {@code data.pkl}, with its trailing '/'. */
    private static String archiveFolder(String location, ZipDirectory dir) throws MalformedTensorFileException {
        String found = null;
        for (ZipMember m : dir.members()) {
            String name = m.name();
            int slash = name.indexOf('/');
            if (slash > 0 && name.substring(slash + 1).equals("data.pkl")) {
                if (found != null) {
                    throw fault(
                            location,
                            "the archive holds several torch.save folders ('" + printable(found) + "' and '"
                                    + printable(name.substring(0, slash + 1))
                                    + "'); only one checkpoint per file is read.");
                }
                found = name.substring(0, slash + 1);
            }
        }
        if (found == null) {
            throw fault(
                    location,
                    "it is a zip archive without a <folder>/data.pkl record, so not a torch.save file."
                            + " Check the file's format.");
        }
        return found;
    }

    private static boolean bigEndian(String location, SeekableInput in, ZipDirectory dir, String prefix)
            throws IOException {
        ZipMember m = dir.member(prefix + "byteorder");
        if (m == null) {
            return false; // written before torch 2.1, always on little-endian machines in practice
        }
        String order = new String(dir.contents(in, m, MAX_BYTEORDER_BYTES), StandardCharsets.US_ASCII);
        return switch (order) {
            case "little" -> false;
            case "big" -> true;
            default ->
                throw fault(location, "its byteorder record holds '" + printable(order) + "', not 'little' or 'big'.");
        };
    }

    private Loaded readLegacy(String location, SeekableInput in, long length, ReadLimits limits) throws IOException {
        PickleInput pickles = new PickleInput(location, in, 0, Math.min(length, limits.maxHeaderBytes()));
        Object magic = RestrictedUnpickler.load(pickles, limits, null, symbolic);
        if (!LEGACY_MAGIC.equals(magic)) {
            throw fault(
                    location,
                    "it starts with a pickle that is not torch.save's magic number, so it is not a"
                            + " PyTorch checkpoint. Check the file's format.");
        }
        Object version = RestrictedUnpickler.load(pickles, limits, null, symbolic);
        if (!Long.valueOf(LEGACY_PROTOCOL_VERSION).equals(version)) {
            throw fault(
                    location,
                    "its legacy protocol version is " + printable(String.valueOf(version)) + ", not "
                            + LEGACY_PROTOCOL_VERSION + ". Load and save it again with a current torch.");
        }
        Object sysInfo = RestrictedUnpickler.load(pickles, limits, null, symbolic);
        if (!(sysInfo instanceof PyDict d && d.items.get("little_endian") instanceof Boolean)) {
            throw fault(location, "its system-info pickle lacks the little_endian flag. The file is corrupt.");
        }
        StorageTable storages = new StorageTable(location, length, true, limits);
        Object root = RestrictedUnpickler.load(pickles, limits, storages, symbolic);
        Object keys = RestrictedUnpickler.load(pickles, limits, null, symbolic);
        if (!(keys instanceof PyList list) || !list.items.stream().allMatch(k -> k instanceof String)) {
            throw fault(location, "its storage key list is not a list of strings. The file is corrupt.");
        }
        Map<String, Long> offsets = new HashMap<>();
        long position = pickles.position();
        byte[] count = new byte[Long.BYTES];
        for (Object k : list.items) {
            String key = (String) k;
            Storage s = storages.byKey.get(key);
            if (s == null || offsets.containsKey(key)) {
                throw fault(
                        location,
                        "its storage list names '" + printable(key) + "', which "
                                + (s == null ? "no tensor uses" : "it names twice") + ". The file is corrupt.");
            }
            if (position > length - Long.BYTES) {
                throw truncated(location, key);
            }
            in.readFully(position, count, 0, count.length);
            long n = LittleEndian.getLong(count, 0);
            if (n != s.numel()) {
                throw fault(
                        location,
                        "storage '" + printable(key) + "' holds " + Long.toUnsignedString(n)
                                + " elements in the file but the pickle declares " + s.numel()
                                + ". The file is corrupt.");
            }
            long bytes = storages.bytes(key);
            position += Long.BYTES;
            if (bytes > length - position) {
                throw truncated(location, key);
            }
            offsets.put(key, position);
            position += bytes;
        }
        for (String key : storages.byKey.keySet()) {
            if (!offsets.containsKey(key)) {
                throw fault(
                        location,
                        "a tensor uses storage '" + printable(key) + "', which the storage list does not"
                                + " name. The file is corrupt.");
            }
        }
        return new Loaded(root, storages, offsets, false);
    }

    private static MalformedTensorFileException truncated(String location, String key) {
        return fault(
                location,
                "the file ends inside storage '" + printable(key) + "'. It is truncated; copy it" + " again.");
    }

    private RankListing listing(String location, long length, Loaded loaded, ReadLimits limits)
            throws MalformedTensorFileException {
        TensorPaths.Found found = TensorPaths.find(location, loaded.root(), limits);
        List<StoredTensor> tensors = new ArrayList<>();
        List<SharedStorages.View> views = new ArrayList<>();
        List<String> skipped = new ArrayList<>(found.skipped());
        Map<String, DTensorSpec> dtensors = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : found.tensors().entrySet()) {
            if (e.getValue() instanceof Pickled.DTensor d) {
                tensors.add(resolve(location, length, e.getKey(), d.local(), loaded, views));
                dtensors.put(e.getKey(), d.spec());
            } else if (e.getValue() instanceof Tensor t) {
                tensors.add(resolve(location, length, e.getKey(), t, loaded, views));
            } else if (e.getValue() instanceof NumpyArray a
                    && a.data().fileOffset() < 0
                    && a.data().data().length > MAX_INLINE_BYTES) {
                skipped.add(e.getKey() + ": numpy array of " + a.data().data().length + " bytes pickled as a string;"
                        + " over " + MAX_INLINE_BYTES + " bytes they are not copied (save with pickle_protocol=4)");
            } else {
                tensors.add(numpy(location, length, e.getKey(), (NumpyArray) e.getValue()));
            }
        }
        Map<String, String> dropped = SharedStorages.dropped(views);
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        dropped.forEach(metadata::putIfAbsent);
        tensors.removeIf(t -> dropped.containsKey(t.name()));
        dtensors.keySet().removeIf(dropped::containsKey);
        return new RankListing(new TensorListing(location, tensors, metadata, skipped), dtensors);
    }

    /**
     * A numpy array: its bytes as they lie in the pickle when they do (protocol 3+ BINBYTES of a stored
     * record), else a copy in the decoder; a view of them, gathered from column-major order and swapped from
     * big-endian when needed.
     */
    private static StoredTensor numpy(String location, long length, String name, NumpyArray a) {
        long[] shape = a.shape();
        int size = a.dtype().bits() / 8;
        long[] stride = new long[shape.length];
        long step = 1;
        for (int k = 0; k < shape.length; k++) {
            int i = a.fortran() ? k : shape.length - 1 - k;
            stride[i] = step;
            step *= shape[i]; // bounded: NumpyArrays checked the product against the bytes
        }
        byte[] bytes = a.data().data();
        long at = a.data().fileOffset();
        int swap = a.bigEndian() ? size : 0;
        boolean plain = swap == 0 && (!a.fortran() || contiguous(shape, stride));
        if (at >= 0 && plain) {
            return new StoredTensor(name, a.dtype(), shape, TensorData.plain(location, length, at, bytes.length));
        }
        StorageViewDecoder view =
                new StorageViewDecoder(location, name, Math.max(at, 0), bytes.length, size, swap, 0, shape, stride);
        TensorData data = at >= 0
                ? new TensorData(location, length, at, bytes.length, view)
                : new TensorData(location, length, 0, bytes.length, new InlineDecoder(bytes, view));
        return new StoredTensor(name, a.dtype(), shape, data);
    }

    private StoredTensor resolve(
            String location, long length, String name, Tensor t, Loaded loaded, List<SharedStorages.View> views)
            throws MalformedTensorFileException {
        String key = t.storage().key();
        ElementType type = t.elementType();
        int size = type.elementSize();
        long storageBytes = loaded.storages().bytes(key);
        long storageOffset = loaded.offsets().get(key);
        long[] shape = t.size();
        long[] stride = t.stride();
        String view = " (offset " + t.offset() + ", size " + Arrays.toString(shape) + ", stride "
                + Arrays.toString(stride) + ")";
        if (storageBytes % size != 0) {
            throw new MalformedTensorFileException(
                    location,
                    name,
                    "its storage of " + storageBytes + " bytes does not hold whole elements of " + type.torchName()
                            + ". The file is corrupt.");
        }
        long elements;
        long nbytes;
        long last = t.offset();
        try {
            elements = 1;
            for (int i = 0; i < shape.length; i++) {
                elements = Math.multiplyExact(elements, shape[i]);
                last = Math.addExact(last, Math.multiplyExact(Math.max(0, shape[i] - 1), stride[i]));
            }
            nbytes = Math.multiplyExact(elements, size);
        } catch (ArithmeticException e) {
            throw new MalformedTensorFileException(
                    location, name, "its view" + view + " overflows 64 bits. The file" + " is corrupt.");
        }
        if (elements > 0 && last >= storageBytes / size) {
            throw new MalformedTensorFileException(
                    location,
                    name,
                    "its view" + view + " reaches element " + last + " of a storage of " + storageBytes / size
                            + " elements. The file is corrupt.");
        }
        if (nbytes > storageBytes) {
            // Only a view that repeats elements (a zero or overlapping stride) is larger than its storage: its
            // decoded size would not be bounded by the file.
            throw new MalformedTensorFileException(
                    location,
                    name,
                    "its view" + view + " repeats storage elements: " + nbytes + " bytes from a storage of "
                            + storageBytes + ". Save it with .contiguous() (or .clone()).");
        }
        long start = elements == 0 ? 0 : t.offset() * size;
        DType dtype = type.dtype();
        int swap = loaded.bigEndian() && size > 1 ? (dtype == DType.C64 ? size / 2 : size) : 0;
        TensorData data;
        if (elements == 0 || (swap == 0 && contiguous(shape, stride))) {
            data = TensorData.plain(location, length, storageOffset + start, nbytes);
        } else {
            data = new TensorData(
                    location,
                    length,
                    storageOffset + start,
                    nbytes,
                    new StorageViewDecoder(
                            location, name, storageOffset, storageBytes, size, swap, t.offset(), shape, stride));
        }
        long end = elements == 0 ? start : (last + 1) * size;
        views.add(new SharedStorages.View(
                name, key, storageBytes, start, end, nbytes, dtype + Arrays.toString(shape) + Arrays.toString(stride)));
        return new StoredTensor(name, dtype, shape, data);
    }

    /** Row-major contiguity; dimensions of size 1 may have any stride. */
    private static boolean contiguous(long[] shape, long[] stride) {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    /** The storages persistent ids name, by key, with their sizes checked against the file. */
    private static final class StorageTable implements RestrictedUnpickler.PersistentLoader {
        private final String location;
        private final long fileLength;
        private final boolean legacy;
        private final ReadLimits limits;
        final Map<String, Storage> byKey = new LinkedHashMap<>();

        StorageTable(String location, long fileLength, boolean legacy, ReadLimits limits) {
            this.location = location;
            this.fileLength = fileLength;
            this.legacy = legacy;
            this.limits = limits;
        }

        /**
         * Zip: ('storage', storage class, key, device, numel). Legacy: the same plus a view (None since torch
         * 0.4; older storage views are refused).
         */
        @Override
        public Object load(Tuple pid, long offset) throws MalformedTensorFileException {
            List<Object> items = pid.items;
            String at = "the persistent id at pickle offset " + offset;
            if (items.size() == 4 && "module".equals(items.get(0)) && items.get(1) instanceof Pickled.Symbol cls) {
                return cls; // torch before 1.6 pickled a module's class with its source: the class is all that is kept
            }
            if (items.size() != (legacy ? 6 : 5) || !"storage".equals(items.get(0))) {
                throw fault(location, at + " is not a storage reference of torch.save. Save a state_dict of tensors.");
            }
            if (!(items.get(1) instanceof Global g
                    && g.meaning() instanceof ElementType type
                    && g.qualifiedName().endsWith("Storage"))) {
                throw fault(
                        location,
                        at + " names " + RestrictedUnpickler.describe(items.get(1)) + ", not a storage class.");
            }
            if (!(items.get(2) instanceof String key) || !(items.get(4) instanceof Long numel) || numel < 0) {
                throw fault(location, at + " lacks a string key or a non-negative element count.");
            }
            if (legacy && items.get(5) != null) {
                throw fault(
                        location,
                        at + " is a storage view of torch before 0.4, which is not read. Load and save"
                                + " the checkpoint again with a current torch.");
            }
            long bytes;
            try {
                bytes = Math.multiplyExact(numel, (long) type.elementSize());
            } catch (ArithmeticException e) {
                bytes = Long.MAX_VALUE;
            }
            if (bytes > fileLength) {
                throw fault(
                        location,
                        "storage '" + printable(key) + "' declares " + numel + " elements of " + type.torchName()
                                + ", more bytes than the whole file of " + fileLength + ". The file is corrupt.");
            }
            Storage s = new Storage(key, type, numel);
            Storage first = byKey.putIfAbsent(key, s);
            if (first == null && byKey.size() > limits.maxTensors()) {
                throw fault(
                        location,
                        "it holds more than " + limits.maxTensors() + " storages. If the file is trusted,"
                                + " raise the read option maxTensors.");
            }
            if (first != null && bytes(key) != bytes) {
                throw fault(location, "storage '" + printable(key) + "' is declared with two different sizes.");
            }
            return s;
        }

        /** The storage's size in bytes, as first declared. */
        long bytes(String key) {
            Storage s = byKey.get(key);
            return s.numel() * s.type().elementSize();
        }
    }

    private static MalformedTensorFileException fault(String location, String what) {
        return new MalformedTensorFileException(location, null, what);
    }

    private static String printable(String s) {
        return MalformedTensorFileException.printable(s);
    }
}
