package io.sparktensors.format.safetensors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses and validates a safetensors JSON header with the reference library's rules: a UTF-8 JSON object;
 * entries with a known dtype, a shape of non-negative integers and {@code data_offsets}; offsets sorted,
 * contiguous and covering the data buffer exactly; byte sizes that match shape and dtype; a string-to-string
 * {@code __metadata__}; no duplicate names and no NUL in names. Unknown fields are ignored.
 *
 * <p>Streaming (no JSON tree), so a header costs memory in proportion to its tensors, not to its text.
 */
public final class HeaderParser {
    static final String METADATA_KEY = "__metadata__";
    private static final JsonFactory JSON = JsonFactory.builder().build();

    private HeaderParser() {}

    /**
     * Parses the header bytes {@code buf[off, off + len)} of {@code file}.
     *
     * @param fileLength the whole file's length, against which offsets are checked
     */
    public static SafetensorsHeader parse(String file, byte[] buf, int off, int len, long fileLength)
            throws MalformedTensorFileException {
        if (len == 0 || buf[off] != '{') {
            throw new MalformedTensorFileException(
                    file, null, "the JSON header does not start with '{'. This is not a safetensors file.");
        }
        checkUtf8(file, buf, off, len);
        Map<String, String> metadata = Map.of();
        List<TensorEntry> tensors = new ArrayList<>();
        Set<String> names = new HashSet<>();
        boolean sawMetadata = false;
        try (JsonParser p = JSON.createParser(buf, off, len)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw fault(file, null, "the header is not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                if (METADATA_KEY.equals(name)) {
                    if (sawMetadata) {
                        throw fault(file, null, "the header has two __metadata__ entries");
                    }
                    sawMetadata = true;
                    metadata = parseMetadata(file, p);
                    continue;
                }
                if (name.indexOf('\0') >= 0) {
                    throw fault(file, name, "the tensor name contains a NUL character");
                }
                if (!names.add(name)) {
                    throw fault(file, name, "the tensor name appears twice in the header");
                }
                tensors.add(parseEntry(file, name, p));
            }
            if (p.nextToken() != null) {
                throw fault(file, null, "the header has data after its JSON object (only space padding may follow)");
            }
        } catch (MalformedTensorFileException e) {
            throw e;
        } catch (IOException e) {
            // Jackson's own syntax and limit errors: keep its text, which names line and column.
            throw new MalformedTensorFileException(file, null, "the header is not valid JSON: " + e.getMessage(), e);
        }
        tensors.sort(Comparator.comparingLong(TensorEntry::begin).thenComparingLong(TensorEntry::end));
        checkLayout(file, tensors, len, fileLength);
        return new SafetensorsHeader(len, metadata, tensors);
    }

    private static Map<String, String> parseMetadata(String file, JsonParser p) throws IOException {
        if (p.currentToken() == JsonToken.VALUE_NULL) {
            return Map.of(); // written as null by some producers (mlx)
        }
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw fault(file, null, "__metadata__ must be a JSON object of strings, found " + p.currentToken());
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            if (p.nextToken() != JsonToken.VALUE_STRING) {
                throw fault(
                        file,
                        null,
                        "__metadata__ value for key '" + MalformedTensorFileException.printable(key)
                                + "' must be a string, found "
                                + p.currentToken());
            }
            if (metadata.put(key, p.getText()) != null) {
                throw fault(
                        file,
                        null,
                        "__metadata__ has the key '" + MalformedTensorFileException.printable(key) + "' twice");
            }
        }
        return metadata;
    }

    private static TensorEntry parseEntry(String file, String name, JsonParser p) throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw fault(file, name, "the entry must be a JSON object with dtype, shape and data_offsets");
        }
        DType dtype = null;
        long[] shape = null;
        long[] offsets = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            p.nextToken();
            switch (field) {
                case "dtype" -> {
                    if (dtype != null) {
                        throw fault(file, name, "the entry has two dtype fields");
                    }
                    if (p.currentToken() != JsonToken.VALUE_STRING) {
                        throw fault(file, name, "dtype must be a string");
                    }
                    dtype = DType.fromCode(p.getText());
                    if (dtype == null) {
                        throw fault(
                                file,
                                name,
                                "unknown dtype '" + MalformedTensorFileException.printable(p.getText())
                                        + "'; known dtypes are " + java.util.Arrays.toString(DType.values()));
                    }
                }
                case "shape" -> {
                    if (shape != null) {
                        throw fault(file, name, "the entry has two shape fields");
                    }
                    shape = parseNaturals(file, name, p, "shape");
                }
                case "data_offsets" -> {
                    if (offsets != null) {
                        throw fault(file, name, "the entry has two data_offsets fields");
                    }
                    offsets = parseNaturals(file, name, p, "data_offsets");
                    if (offsets.length != 2) {
                        throw fault(
                                file,
                                name,
                                "data_offsets must hold exactly two numbers [begin, end], found " + offsets.length);
                    }
                }
                default -> p.skipChildren(); // unknown fields are ignored, as the reference does
            }
        }
        if (dtype == null || shape == null || offsets == null) {
            throw fault(
                    file,
                    name,
                    "the entry lacks " + (dtype == null ? "dtype" : shape == null ? "shape" : "data_offsets"));
        }
        if (offsets[1] < offsets[0]) {
            throw fault(file, name, "data_offsets [" + offsets[0] + ", " + offsets[1] + "] end before they begin");
        }
        long expected;
        try {
            expected = dtype.byteSize(TensorEntry.elementCount(shape));
        } catch (ArithmeticException e) {
            throw fault(file, name, "the shape " + java.util.Arrays.toString(shape) + " overflows 64 bits");
        }
        if (expected < 0) {
            throw fault(
                    file,
                    name,
                    "the shape " + java.util.Arrays.toString(shape) + " of " + dtype
                            + " elements does not fill a whole number of bytes");
        }
        if (expected != offsets[1] - offsets[0]) {
            throw fault(
                    file,
                    name,
                    "shape " + java.util.Arrays.toString(shape) + " of " + dtype + " needs "
                            + expected + " bytes but data_offsets [" + offsets[0] + ", " + offsets[1] + "] hold "
                            + (offsets[1] - offsets[0]));
        }
        return new TensorEntry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] parseNaturals(String file, String name, JsonParser p, String field) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw fault(file, name, field + " must be a JSON array of non-negative integers");
        }
        long[] values = new long[4];
        int n = 0;
        while (p.nextToken() != JsonToken.END_ARRAY) {
            if (p.currentToken() != JsonToken.VALUE_NUMBER_INT) {
                throw fault(
                        file,
                        name,
                        field + " must hold non-negative integers, found "
                                + MalformedTensorFileException.printable(p.getText()));
            }
            long v;
            try {
                v = p.getLongValue();
            } catch (InputCoercionException e) {
                throw fault(
                        file,
                        name,
                        field + " holds " + MalformedTensorFileException.printable(p.getText())
                                + ", larger than 64 bits");
            }
            if (v < 0) {
                throw fault(file, name, field + " holds the negative number " + v);
            }
            if (n == values.length) {
                values = java.util.Arrays.copyOf(values, n * 2);
            }
            values[n++] = v;
        }
        return java.util.Arrays.copyOf(values, n);
    }

    /** Offsets must start at 0, follow each other without gap or overlap, and end where the file ends. */
    private static void checkLayout(String file, List<TensorEntry> sorted, long headerLength, long fileLength)
            throws MalformedTensorFileException {
        long position = 0;
        for (TensorEntry t : sorted) {
            if (t.begin() != position) {
                throw fault(
                        file,
                        t.name(),
                        (t.begin() > position ? "there is a gap" : "it overlaps the previous tensor")
                                + ": data_offsets begin at " + t.begin() + " but the previous tensor ends at "
                                + position);
            }
            position = t.end();
        }
        long dataLength = fileLength - 8 - headerLength;
        if (position != dataLength) {
            throw fault(
                    file,
                    null,
                    "the tensors cover " + position + " data bytes but the file holds "
                            + dataLength + " after its header"
                            + (position > dataLength
                                    ? ": the file is truncated"
                                    : ": unexplained bytes follow the last tensor"));
        }
    }

    private static void checkUtf8(String file, byte[] buf, int off, int len) throws MalformedTensorFileException {
        CharsetDecoder decoder = StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(buf, off, len);
        CharBuffer out = CharBuffer.allocate(8192);
        try {
            while (true) {
                CoderResult r = decoder.decode(in, out, true);
                if (r.isError()) {
                    r.throwException();
                }
                out.clear();
                if (r.isUnderflow()) {
                    r = decoder.flush(out);
                    if (r.isError()) {
                        r.throwException();
                    }
                    return;
                }
            }
        } catch (CharacterCodingException e) {
            throw fault(file, null, "the header is not valid UTF-8 (at byte " + (8 + in.position() - off) + ")");
        }
    }

    private static MalformedTensorFileException fault(String file, String tensor, String fault) {
        return new MalformedTensorFileException(file, tensor, fault);
    }
}
