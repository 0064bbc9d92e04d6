package io.sparktensors.format.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.DType;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorListing;
import io.sparktensors.io.FolderFiles;
import io.sparktensors.io.LocalInputFile;
import io.sparktensors.testing.BytesInputFile;
import io.sparktensors.testing.Corruptions;
import io.sparktensors.testing.Fixtures;
import io.sparktensors.testing.StoredTensors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GGUF reader on the reference file, on built files of every supported type, and on hostile files. */
class GgufReaderTest {
    private static final GgufReader DEQUANTIZE = new GgufReader(true);
    private static final FolderFiles NO_FOLDER = (referrer, name) -> {
        throw new AssertionError("GGUF reads no sibling file, asked for " + name);
    };
    /** F16 bits of 0.5 and 2.0. */
    private static final int HALF = 0x3800;

    private static final int TWO = 0x4000;

    @TempDir
    Path dir;

    private TensorListing listFile(byte[] bytes, GgufReader reader) throws IOException {
        Path file = dir.resolve("m.gguf");
        Files.write(file, bytes);
        return reader.list(new LocalInputFile(file), NO_FOLDER, ReadLimits.DEFAULTS);
    }

    private static Map<String, StoredTensor> byName(TensorListing listing) {
        Map<String, StoredTensor> out = new HashMap<>();
        listing.tensors().forEach(t -> out.put(t.name(), t));
        return out;
    }

    private static float[] floats(byte[] b) {
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.length / 4];
        for (int i = 0; i < out.length; i++) {
            out[i] = buf.getFloat();
        }
        return out;
    }

    @Test
    void referenceFileMatchesExpected() throws IOException {
        Path folder = Fixtures.reference("gguf-small");
        Path file = folder.resolve("small.gguf");
        TensorListing listing = new GgufReader(false).list(new LocalInputFile(file), NO_FOLDER, ReadLimits.DEFAULTS);
        StoredTensors.assertMatches(listing, Fixtures.expected(folder), Set.of());
        assertEquals("llama", listing.metadata().get("general.architecture"));
        assertEquals("1", listing.metadata().get("llama.block_count"));
        assertEquals("3", listing.metadata().get("gguf.version"));
    }

    /** Q8_0 blocks: scale, then q = (i * 7 % 256) - 128 for element i of the tensor. */
    private static int q8(long i) {
        return (int) (i * 7 % 256) - 128;
    }

    /** Q4_0 nibbles: element i holds (i * 5) % 16. */
    private static int q4(long i) {
        return (int) (i * 5 % 16);
    }

    @Test
    void quantizedTensorsAreDequantized() throws IOException {
        // q8: GGUF dims [64, 3] (shape [3, 64]), 6 blocks; q4: [32, 2] (shape [2, 32]), 2 blocks; v: [32], 1 block.
        Gguf g = Gguf.header(3, 0)
                .tensor("q8", 8, 0, 64, 3)
                .tensor("q4", 2, 224, 32, 2)
                .tensor("v", 8, 288, 32)
                .pad(32);
        int dataStart = g.size();
        for (int b = 0; b < 6; b++) {
            g.le(HALF, 2);
            for (int j = 0; j < 32; j++) {
                g.raw((byte) q8(b * 32L + j));
            }
        }
        g.pad(32);
        assertEquals(dataStart + 224, g.size());
        for (int b = 0; b < 2; b++) {
            g.le(TWO, 2);
            for (int j = 0; j < 16; j++) {
                g.raw((byte) (q4(b * 32L + j) | q4(b * 32L + j + 16) << 4));
            }
        }
        g.pad(32);
        g.le(TWO, 2);
        for (int j = 0; j < 32; j++) {
            g.raw((byte) q8(j));
        }
        TensorListing listing = listFile(g.build(), DEQUANTIZE);
        Map<String, StoredTensor> t = byName(listing);
        StoredTensor q8 = t.get("q8");
        assertEquals(DType.F32, q8.dtype());
        assertArrayEquals(new long[] {3, 64}, q8.shape());
        assertEquals(3 * 64 * 4, q8.data().length());
        float[] v8 = floats(StoredTensors.bytes(q8));
        for (int i = 0; i < v8.length; i++) {
            assertEquals(q8(i) * 0.5f, v8[i], "q8[" + i + "]");
        }
        assertArrayEquals(new long[] {2, 32}, t.get("q4").shape());
        float[] v4 = floats(StoredTensors.bytes(t.get("q4")));
        for (int i = 0; i < v4.length; i++) {
            assertEquals((q4(i) - 8) * 2f, v4[i], "q4[" + i + "]");
        }
        assertArrayEquals(
                floats(Arrays.copyOfRange(StoredTensors.bytes(q8), 64 * 4, 3 * 64 * 4)),
                floats(StoredTensors.rows(q8, 1, 2)),
                "rows 1 and 2 alone");
        float[] part = floats(StoredTensors.rows(t.get("v"), 5, 3));
        assertArrayEquals(new float[] {q8(5) * 2f, q8(6) * 2f, q8(7) * 2f}, part, "elements inside one block");
        assertTrue(q8.data().decoder().splittable());
    }

    @Test
    void quantizedTensorsAreRefusedWithoutDequantize() {
        byte[] file = Gguf.header(1, 0)
                .tensor("q8", 8, 0, 32)
                .pad(32)
                .le(HALF, 2)
                .raw(new byte[32])
                .build();
        MalformedTensorFileException e =
                assertThrows(MalformedTensorFileException.class, () -> listFile(file, new GgufReader(false)));
        assertTrue(e.getMessage().contains("set the dequantize option"), e.getMessage());
        assertEquals("q8", e.tensor().orElseThrow());
    }

    @Test
    void plainTypesWithAlignment64() throws IOException {
        Gguf g = Gguf.header(3, 1)
                .kv("general.alignment", Gguf.UINT32)
                .u32(64)
                .tensor("i8", 24, 0, 3)
                .tensor("i32", 26, 64, 2, 1)
                .tensor("bf16", 30, 128, 2)
                .pad(64);
        int dataStart = g.size();
        g.raw((byte) -1, (byte) 2, (byte) -128).pad(64);
        g.le(-7, 4).le(100_000, 4).pad(64);
        g.le(0x3f80, 2).le(0xc000, 2);
        TensorListing listing = listFile(g.build(), DEQUANTIZE);
        Map<String, StoredTensor> t = byName(listing);
        assertEquals("64", listing.metadata().get("general.alignment"));
        assertEquals(dataStart + 64, t.get("i32").data().offset());
        assertArrayEquals(new byte[] {-1, 2, -128}, StoredTensors.bytes(t.get("i8")));
        assertArrayEquals(new long[] {1, 2}, t.get("i32").shape());
        ByteBuffer i32 = ByteBuffer.wrap(StoredTensors.bytes(t.get("i32"))).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(-7, i32.getInt());
        assertEquals(100_000, i32.getInt());
        assertEquals(DType.BF16, t.get("bf16").dtype());
        assertArrayEquals(new byte[] {(byte) 0x80, 0x3f, 0, (byte) 0xc0}, StoredTensors.bytes(t.get("bf16")));
        assertTrue(listing.tensors().stream().allMatch(x -> x.data().isPlain()));
    }

    @Test
    void metadataOfEveryValueType() throws IOException {
        Gguf g = Gguf.header(0, 14)
                .kv("u8", Gguf.UINT8)
                .raw((byte) 200)
                .kv("i8", Gguf.INT8)
                .raw((byte) -3)
                .kv("u16", Gguf.UINT16)
                .le(65535, 2)
                .kv("i16", Gguf.INT16)
                .le(-2, 2)
                .kv("u32", Gguf.UINT32)
                .u32(0xffff_ffffL)
                .kv("i32", Gguf.INT32)
                .u32(-5)
                .kv("f32", Gguf.FLOAT32)
                .u32(Float.floatToIntBits(1.5f))
                .kv("bool", Gguf.BOOL)
                .raw((byte) 1)
                .kv("str", Gguf.STRING)
                .str("héllo")
                .kv("u64", Gguf.UINT64)
                .u64(-1)
                .kv("i64", Gguf.INT64)
                .u64(-9)
                .kv("f64", Gguf.FLOAT64)
                .u64(Double.doubleToLongBits(-0.25))
                .kv("tokens", Gguf.ARRAY)
                .u32(Gguf.STRING)
                .u64(3)
                .str("a")
                .str("")
                .str("ccc")
                .kv("nested", Gguf.ARRAY)
                .u32(Gguf.ARRAY)
                .u64(2)
                .u32(Gguf.INT32)
                .u64(2)
                .u32(1)
                .u32(2)
                .u32(Gguf.ARRAY)
                .u64(1)
                .u32(Gguf.FLOAT64)
                .u64(1)
                .u64(0);
        Map<String, String> m = listFile(g.build(), DEQUANTIZE).metadata();
        assertEquals("200", m.get("u8"));
        assertEquals("-3", m.get("i8"));
        assertEquals("65535", m.get("u16"));
        assertEquals("-2", m.get("i16"));
        assertEquals("4294967295", m.get("u32"));
        assertEquals("-5", m.get("i32"));
        assertEquals("1.5", m.get("f32"));
        assertEquals("true", m.get("bool"));
        assertEquals("héllo", m.get("str"));
        assertEquals("18446744073709551615", m.get("u64"));
        assertEquals("-9", m.get("i64"));
        assertEquals("-0.25", m.get("f64"));
        assertEquals("[array of 3 string]", m.get("tokens"));
        assertEquals("[array of 2 array]", m.get("nested"));
        assertEquals(15, m.size(), m.toString());
    }

    // Hostile and corrupt files: each is a MalformedTensorFileException naming the fault.

    private static MalformedTensorFileException malformed(byte[] file, String expected) {
        MalformedTensorFileException e = assertThrows(
                MalformedTensorFileException.class,
                () -> DEQUANTIZE.list(new BytesInputFile("m.gguf", file), NO_FOLDER, ReadLimits.DEFAULTS));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().startsWith("Malformed tensor file 'm.gguf'"), e.getMessage());
        return e;
    }

    /** A file with one F32 tensor of {@code dims} at {@code offset} and {@code dataBytes} of data. */
    private static byte[] oneTensor(int type, long offset, int dataBytes, long... dims) {
        return Gguf.header(1, 0)
                .tensor("t", type, offset, dims)
                .pad(32)
                .raw(new byte[dataBytes])
                .build();
    }

    @Test
    void headerFaults() {
        malformed("GGUX".getBytes(), "GGUF magic");
        malformed(new byte[2], "GGUF magic");
        malformed(new Gguf().raw("GGUF".getBytes()).u32(1).u32(0).u32(0).build(), "version 1");
        malformed(new Gguf().raw("GGUF".getBytes()).u32(7).u64(0).u64(0).build(), "version 7");
        malformed(
                new Gguf()
                        .raw("GGUF".getBytes())
                        .raw(new byte[] {0, 0, 0, 3})
                        .u64(0)
                        .u64(0)
                        .build(),
                "big-endian");
        malformed(Gguf.header(1L << 62, 0).build(), "raise the read option maxTensors");
        malformed(Gguf.header(0, 1L << 40).build(), "metadata pairs");
        malformed(Gguf.header(0, 1).u64(1000).raw(new byte[16]).build(), "beyond the end of the file");
        malformed(Gguf.header(0, 1).u64(-1).raw(new byte[16]).build(), "beyond the end of the file");
        malformed(
                Gguf.header(0, 1).kv("s", Gguf.STRING).u64(99).raw(new byte[4]).build(), "beyond the end");
        malformed(
                Gguf.header(0, 1)
                        .kv("a", Gguf.ARRAY)
                        .u32(Gguf.UINT64)
                        .u64(1L << 60)
                        .build(),
                "elements");
        malformed(
                Gguf.header(0, 1)
                        .kv("a", Gguf.ARRAY)
                        .u32(Gguf.STRING)
                        .u64(1L << 40)
                        .build(),
                "elements");
        malformed(
                Gguf.header(0, 1)
                        .kv("a", Gguf.ARRAY)
                        .u32(Gguf.ARRAY)
                        .u64(1L << 40)
                        .build(),
                "elements");
        malformed(Gguf.header(0, 1).kv("x", 13).u64(0).build(), "value type 13");
        malformed(Gguf.header(0, 1).kv("b", Gguf.BOOL).raw((byte) 2).u64(0).build(), "neither 0 nor 1");
        malformed(
                Gguf.header(0, 2)
                        .kv("k", Gguf.UINT8)
                        .raw((byte) 1)
                        .kv("k", Gguf.UINT8)
                        .raw((byte) 1)
                        .build(),
                "appears twice");
        malformed(Gguf.header(0, 1).kv("general.alignment", Gguf.UINT32).u32(48).build(), "not a power of two");
        malformed(Gguf.header(0, 1).kv("general.alignment", Gguf.UINT64).u64(32).build(), "must be a uint32");
    }

    @Test
    void nestedArraysBeyondTheLimit() {
        Gguf g = Gguf.header(0, 1).kv("deep", Gguf.ARRAY);
        for (int i = 0; i < 300; i++) {
            g.u32(Gguf.ARRAY).u64(1);
        }
        g.u32(Gguf.UINT8).u64(0);
        malformed(g.build(), "nest deeper than the limit of 256");
    }

    @Test
    void tensorInfoFaults() {
        assertEquals(
                "t",
                malformed(oneTensor(0, 0, 4, new long[100]), "100 dimensions")
                        .tensor()
                        .orElseThrow());
        malformed(oneTensor(0, 0, 4, 1L << 32, 1L << 32), "overflow 64 bits");
        malformed(oneTensor(0, 0, 4, -1), "beyond 63 bits");
        malformed(oneTensor(0, 0, 4, 1L << 61), "size in bytes overflows 64 bits");
        malformed(oneTensor(0, 0, 12, 4), "beyond the end of the file");
        malformed(oneTensor(0, 1L << 62, 16, 4), "beyond the end of the file");
        malformed(oneTensor(0, 8, 64, 4), "not a multiple of the alignment 32");
        malformed(oneTensor(99, 0, 16, 4), "ggml type 99 is unknown");
        malformed(oneTensor(12, 0, 1024, 256), "stored as Q4_K");
        malformed(oneTensor(8, 0, 64, 16, 2), "not a multiple of the Q8_0 block");
        byte[] overlap = Gguf.header(2, 0)
                .tensor("a", 0, 0, 16)
                .tensor("b", 0, 32, 16)
                .pad(32)
                .raw(new byte[96])
                .build();
        assertEquals("b", malformed(overlap, "overlaps that of 'a'").tensor().orElseThrow());
        byte[] twice = Gguf.header(2, 0)
                .tensor("a", 0, 0, 4)
                .tensor("a", 0, 32, 4)
                .pad(32)
                .raw(new byte[48])
                .build();
        malformed(twice, "two tensors have this name");
    }

    @Test
    void headerBeyondMaxHeaderBytes() {
        byte[] file =
                Gguf.header(0, 1).kv("s", Gguf.STRING).str("x".repeat(100)).build();
        MalformedTensorFileException e = assertThrows(
                MalformedTensorFileException.class,
                () -> DEQUANTIZE.list(new BytesInputFile("m.gguf", file), NO_FOLDER, new ReadLimits(64, 10, 10)));
        assertTrue(e.getMessage().contains("maxHeaderBytes"), e.getMessage());
    }

    private static byte[] smallFile() {
        return Gguf.header(2, 2)
                .kv("general.architecture", Gguf.STRING)
                .str("llama")
                .kv("tokens", Gguf.ARRAY)
                .u32(Gguf.STRING)
                .u64(2)
                .str("a")
                .str("b")
                .tensor("a", 0, 0, 2, 2)
                .tensor("q", 8, 32, 32)
                .pad(32)
                .raw(new byte[16])
                .pad(32)
                .le(HALF, 2)
                .raw(new byte[32])
                .build();
    }

    @Test
    void corruptBytesGiveOnlyMalformedFiles() throws IOException {
        Corruptions.assertEveryByteChangeListsOrIsMalformed(DEQUANTIZE, "m.gguf", smallFile(), NO_FOLDER);
    }

    @Test
    void everyPrefixOfAFileIsMalformed() throws IOException {
        byte[] whole = smallFile();
        assertEquals(
                2,
                DEQUANTIZE
                        .list(new BytesInputFile("m.gguf", whole), NO_FOLDER, ReadLimits.DEFAULTS)
                        .tensors()
                        .size());
        Corruptions.assertEveryPrefixIsMalformed(DEQUANTIZE, "m.gguf", whole, NO_FOLDER);
    }
}
