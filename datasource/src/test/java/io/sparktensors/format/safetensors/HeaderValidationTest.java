package io.sparktensors.format.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.testing.BytesInputFile;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Each of the reference library's validation rules, broken once by a malformed file. */
class HeaderValidationTest {
    private static final String F32X4 = "{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";

    /** A file: 8 length bytes, the header text, then {@code dataBytes} zero bytes. */
    static byte[] file(String header, int dataBytes) {
        return file(header.getBytes(StandardCharsets.UTF_8), header.getBytes(StandardCharsets.UTF_8).length, dataBytes);
    }

    static byte[] file(byte[] header, long declaredLength, int dataBytes) {
        byte[] out = new byte[8 + header.length + dataBytes];
        for (int i = 0; i < 8; i++) {
            out[i] = (byte) (declaredLength >>> (8 * i));
        }
        System.arraycopy(header, 0, out, 8, header.length);
        return out;
    }

    static Stream<Arguments> malformed() {
        byte[] badUtf8 = "{\"t\u00ff\":{}}".getBytes(StandardCharsets.ISO_8859_1);
        return Stream.of(
                Arguments.of("shorter than 8 bytes", new byte[] {1, 2, 3}, null, "fewer than the 8-byte"),
                Arguments.of(
                        "header length beyond the file",
                        file(F32X4.getBytes(StandardCharsets.UTF_8), 10_000, 16),
                        null,
                        "exceeds the file length"),
                Arguments.of("header length over the limit", file(F32X4, 16), null, "exceeds the limit of 20 bytes"),
                Arguments.of(
                        "Git LFS pointer",
                        "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n"
                                .getBytes(StandardCharsets.US_ASCII),
                        null,
                        "Git LFS pointer"),
                Arguments.of("header not starting with {", file(" {}", 0), null, "does not start with '{'"),
                Arguments.of("header not UTF-8", file(badUtf8, badUtf8.length, 0), null, "not valid UTF-8"),
                Arguments.of("header not JSON", file("{\"t\":", 0), null, "not valid JSON"),
                Arguments.of("data after the object", file("{}  x", 0), null, "not valid JSON"),
                Arguments.of("entry not an object", file("{\"t\":[1]}", 0), "t", "must be a JSON object"),
                Arguments.of(
                        "unknown dtype",
                        file("{\"t\":{\"dtype\":\"F31\",\"shape\":[],\"data_offsets\":[0,4]}}", 4),
                        "t",
                        "unknown dtype 'F31'"),
                Arguments.of(
                        "dtype not a string",
                        file("{\"t\":{\"dtype\":7,\"shape\":[],\"data_offsets\":[0,4]}}", 4),
                        "t",
                        "dtype must be a string"),
                Arguments.of(
                        "missing shape",
                        file("{\"t\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4),
                        "t",
                        "lacks shape"),
                Arguments.of(
                        "missing data_offsets",
                        file("{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4),
                        "t",
                        "lacks data_offsets"),
                Arguments.of(
                        "negative dimension",
                        file("{\"t\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4),
                        "t",
                        "negative number -1"),
                Arguments.of(
                        "fractional dimension",
                        file("{\"t\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4),
                        "t",
                        "non-negative integers"),
                Arguments.of(
                        "dimension beyond 64 bits",
                        file("{\"t\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", 4),
                        "t",
                        "larger than 64 bits"),
                Arguments.of(
                        "shape product overflows",
                        file("{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4),
                        "t",
                        "overflows 64 bits"),
                Arguments.of(
                        "three offsets",
                        file("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4),
                        "t",
                        "exactly two"),
                Arguments.of(
                        "offsets reversed",
                        file("{\"t\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4),
                        "t",
                        "end before they begin"),
                Arguments.of(
                        "size does not match shape",
                        file("{\"t\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", 16),
                        "t",
                        "needs 12 bytes"),
                Arguments.of(
                        "sub-byte dtype without whole bytes",
                        file("{\"t\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", 2),
                        "t",
                        "whole number of bytes"),
                Arguments.of(
                        "gap between tensors",
                        file(
                                "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                                        + "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[6,10]}}",
                                10),
                        "b",
                        "there is a gap"),
                Arguments.of(
                        "first tensor not at 0",
                        file("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}", 6),
                        "a",
                        "there is a gap"),
                Arguments.of(
                        "overlapping tensors",
                        file(
                                "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                                        + "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}",
                                6),
                        "b",
                        "overlaps"),
                Arguments.of("data shorter than the offsets", file(F32X4, 12), null, "the file is truncated"),
                Arguments.of("data longer than the offsets", file(F32X4, 20), null, "unexplained bytes"),
                Arguments.of(
                        "__metadata__ not an object",
                        file("{\"__metadata__\":[\"a\"]}", 0),
                        null,
                        "__metadata__ must be a JSON object"),
                Arguments.of(
                        "__metadata__ value not a string",
                        file("{\"__metadata__\":{\"epoch\":3}}", 0),
                        null,
                        "value for key 'epoch' must be a string"),
                Arguments.of(
                        "duplicate tensor name",
                        file(
                                "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                                        + "\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}}",
                                8),
                        "a",
                        "appears twice"),
                Arguments.of(
                        "NUL in a tensor name",
                        file("{\"a\\u0000b\":{\"dtype\":\"U8\",\"shape\":[4]," + "\"data_offsets\":[0,4]}}", 4),
                        "a\0b",
                        "contains a NUL"),
                Arguments.of(
                        "duplicate field in an entry",
                        file("{\"t\":{\"dtype\":\"U8\",\"dtype\":\"I8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4),
                        "t",
                        "two dtype fields"));
    }

    private static long limitFor(String rule) {
        return rule.contains("limit") ? 20 : HeaderReader.DEFAULT_MAX_HEADER_BYTES;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void refusesWithAClearError(String rule, byte[] bytes, String tensor, String fault) {
        BytesInputFile in = new BytesInputFile("mem://bad/" + rule.replace(' ', '-') + ".safetensors", bytes);
        MalformedTensorFileException e =
                assertThrows(MalformedTensorFileException.class, () -> HeaderReader.read(in, limitFor(rule)));
        assertTrue(e.getMessage().contains(fault), () -> "expected '" + fault + "' in: " + e.getMessage());
        assertTrue(e.getMessage().contains(in.location()), "the message names the file: " + e.getMessage());
        assertEquals(in.location(), e.file());
        assertEquals(tensor, e.tensor().orElse(null), "the tensor at fault");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void neverReadsMoreThanTwice(String rule, byte[] bytes, String tensor, String fault) {
        BytesInputFile in = new BytesInputFile("mem://x", bytes);
        assertThrows(MalformedTensorFileException.class, () -> HeaderReader.read(in, limitFor(rule)));
        assertTrue(in.reads() <= 2, "reads: " + in.reads());
    }

    @org.junit.jupiter.api.Test
    void acceptsWhatTheReferenceAccepts() throws Exception {
        String header = "{\"__metadata__\":null,\"z\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8],"
                + "\"extra\":{\"nested\":[1,2,{}]}},\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[8,8]},"
                + "\"a\":{\"dtype\":\"F4\",\"shape\":[2,2],\"data_offsets\":[8,10]}}      ";
        SafetensorsHeader h = HeaderReader.read(new BytesInputFile("mem://ok", file(header, 10)), 1 << 20)
                .header();
        assertEquals(
                List.of("z", "e", "a"),
                h.tensors().stream().map(TensorEntry::name).toList());
        assertEquals(0, h.metadata().size());
        assertEquals(0, h.tensors().get(0).rank());
        assertEquals(8 + header.length(), h.dataStart());
        assertTrue(Arrays.equals(new long[] {0, 3}, h.tensors().get(1).shape()));
    }
}
