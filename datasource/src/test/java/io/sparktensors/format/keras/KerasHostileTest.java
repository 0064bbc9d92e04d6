package io.sparktensors.format.keras;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorListing;
import io.sparktensors.testing.BytesInputFile;
import io.sparktensors.testing.Fixtures;
import io.sparktensors.testing.StoredTensors;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Element types and layouts Keras rarely writes (from golden/keras/make_golden.py), links, external storage,
 * limits, and hostile bytes: truncated, random and corrupted files.
 */
class KerasHostileTest {
    private static final KerasReader READER = new KerasReader();

    static Path golden(String name) {
        try {
            return Path.of(
                    KerasHostileTest.class.getResource("/golden/keras/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static TensorListing list(String location, byte[] bytes, ReadLimits limits) throws IOException {
        return READER.list(new BytesInputFile(location, bytes), null, limits);
    }

    @Test
    void everyTypeAndLayoutOfTheFeaturesFile() throws IOException {
        TensorListing listing = KerasReaderTest.list(golden("features.h5"));
        Map<String, StoredTensor> t = KerasReaderTest.byName(listing);
        assertEquals("hdf5", listing.metadata().get("keras.layout"));
        assertEquals(
                java.util.Set.of(
                        "be_f32",
                        "be_i16",
                        "chunked_gzip",
                        "chunked_be_f64",
                        "compact_i32",
                        "flags",
                        "u8",
                        "u64",
                        "f16",
                        "scalar_i64",
                        "empty_f32",
                        "group/inner/deep"),
                t.keySet());

        assertFalse(t.get("be_f32").data().isPlain());
        assertTrue(t.get("be_f32").data().decoder().splittable());
        float[] halves = new float[12];
        for (int i = 0; i < 12; i++) {
            halves[i] = i * 0.5f;
        }
        assertArrayEquals(halves, KerasReaderTest.floats(t.get("be_f32")));
        assertArrayEquals(le16(-3, -2, -1, 0, 1, 2), StoredTensors.bytes(t.get("be_i16")));

        StoredTensor gzip = t.get("chunked_gzip");
        assertFalse(gzip.data().decoder().splittable());
        float[] range = new float[60];
        for (int i = 0; i < 60; i++) {
            range[i] = i;
        }
        assertArrayEquals(range, KerasReaderTest.floats(gzip));
        assertArrayEquals(new long[] {10, 6}, gzip.shape());
        double[] linspace = doubles(t.get("chunked_be_f64"));
        assertEquals(1.0 / 6, linspace[1], 0);
        assertEquals(1.0, linspace[6], 0);
        assertArrayEquals(le32(1, -2, 3, -4), StoredTensors.bytes(t.get("compact_i32")));

        assertEquals("BOOL", t.get("flags").dtype().code());
        assertArrayEquals(new byte[] {1, 0, 1, 1}, StoredTensors.bytes(t.get("flags")));
        assertEquals("U8", t.get("u8").dtype().code());
        assertArrayEquals(
                new byte[] {(byte) 250, (byte) 251, (byte) 252, (byte) 253, (byte) 254, (byte) 255},
                StoredTensors.bytes(t.get("u8")));
        assertEquals("U64", t.get("u64").dtype().code());
        assertEquals("F16", t.get("f16").dtype().code());
        assertArrayEquals(new byte[] {0x00, 0x3e, (byte) 0x80, (byte) 0xc0}, StoredTensors.bytes(t.get("f16")));
        assertEquals("I64", t.get("scalar_i64").dtype().code());
        assertEquals(0, t.get("scalar_i64").rank());
        assertEquals(
                -7L,
                java.nio.ByteBuffer.wrap(StoredTensors.bytes(t.get("scalar_i64")))
                        .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                        .getLong());
        assertArrayEquals(new long[] {0, 3}, t.get("empty_f32").shape());
        assertEquals(0, t.get("empty_f32").data().length());
        assertEquals("I8", t.get("group/inner/deep").dtype().code());

        String skipped = String.join("\n", listing.skipped());
        assertTrue(skipped.contains("text: its element type, string data"), skipped);
        assertTrue(skipped.contains("complex: its element type, compound data type"), skipped);
        assertTrue(skipped.contains("soft: a soft link to '/be_f32', not followed"), skipped);
        assertTrue(
                skipped.contains("ext: an external link to 'other.h5:/secret' in another file, not followed"), skipped);
        assertEquals(4, listing.skipped().size(), skipped);
    }

    @Test
    void splittableDecodersGiveTheSameBytesInParts() throws IOException {
        TensorListing listing = KerasReaderTest.list(golden("features.h5"));
        Map<String, StoredTensor> t = KerasReaderTest.byName(listing);
        StoredTensor be = t.get("be_f32");
        byte[] all = StoredTensors.bytes(be);
        byte[] parts = concat(StoredTensors.rows(be, 0, 1), StoredTensors.rows(be, 1, 2));
        assertArrayEquals(all, parts);
    }

    @Test
    void decodersSurviveJavaSerialization() throws Exception {
        Map<String, StoredTensor> t = KerasReaderTest.byName(KerasReaderTest.list(golden("features.h5")));
        for (String name : new String[] {"chunked_gzip", "be_f32", "compact_i32"}) {
            StoredTensor original = t.get(name);
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
                out.writeObject(original);
            }
            StoredTensor copy;
            try (java.io.ObjectInputStream in =
                    new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
                copy = (StoredTensor) in.readObject();
            }
            assertEquals(original, copy, name);
            assertArrayEquals(StoredTensors.bytes(original), StoredTensors.bytes(copy), name);
        }
    }

    @Test
    void externalStorageIsRefused() {
        MalformedTensorFileException e =
                assertThrows(MalformedTensorFileException.class, () -> KerasReaderTest.list(golden("external.h5")));
        assertTrue(e.getMessage().contains("External Data Files"), e.getMessage());
        assertTrue(e.getMessage().contains("external.h5"), e.getMessage());
    }

    @Test
    void limitsAreEnforced() throws IOException {
        byte[] lstm = Files.readAllBytes(Fixtures.real("keras2-fdeep/lstm.h5"));
        MalformedTensorFileException tooMany = assertThrows(
                MalformedTensorFileException.class,
                () -> list("lstm.h5", lstm, new ReadLimits(ReadLimits.DEFAULT_MAX_HEADER_BYTES, 62, 256)));
        assertTrue(tooMany.getMessage().contains("maxTensors"), tooMany.getMessage());
        assertEquals(
                63,
                list("lstm.h5", lstm, new ReadLimits(ReadLimits.DEFAULT_MAX_HEADER_BYTES, 63, 256))
                        .tensors()
                        .size());
        MalformedTensorFileException tooDeep = assertThrows(
                MalformedTensorFileException.class,
                () -> list("lstm.h5", lstm, new ReadLimits(ReadLimits.DEFAULT_MAX_HEADER_BYTES, 1000, 3)));
        assertTrue(tooDeep.getMessage().contains("maxNesting"), tooDeep.getMessage());
        MalformedTensorFileException tooBig = assertThrows(
                MalformedTensorFileException.class, () -> list("lstm.h5", lstm, new ReadLimits(4096, 1000, 256)));
        assertTrue(tooBig.getMessage().contains("maxHeaderBytes"), tooBig.getMessage());
    }

    @Test
    void truncatedFilesAreMalformed() throws IOException {
        byte[] legacy = Files.readAllBytes(Fixtures.reference("keras-dense").resolve("legacy.h5"));
        int dataEnd = 10516; // the last weight's bytes end here (dense_b/bias at 10504, 12 bytes)
        for (int n = 0; n < legacy.length; n += n < 600 ? 7 : 211) {
            byte[] prefix = Arrays.copyOf(legacy, n);
            if (n < dataEnd) {
                MalformedTensorFileException e = assertThrows(
                        MalformedTensorFileException.class,
                        () -> list("cut.h5", prefix, ReadLimits.DEFAULTS),
                        "prefix of " + n + " bytes");
                assertTrue(e.getMessage().startsWith("Malformed tensor file 'cut.h5'"), e.getMessage());
            } else {
                listOrMalformed(prefix, "prefix of " + n + " bytes");
            }
        }
    }

    @Test
    void randomBytesAreMalformed() {
        Random random = new Random(42);
        for (int n : new int[] {0, 1, 8, 100, 512, 4096, 70_000}) {
            byte[] bytes = new byte[n];
            random.nextBytes(bytes);
            MalformedTensorFileException e = assertThrows(
                    MalformedTensorFileException.class, () -> list("random.h5", bytes, ReadLimits.DEFAULTS));
            assertTrue(e.getMessage().contains("no HDF5 signature"), e.getMessage());
        }
        byte[] signed = new byte[4096];
        random.nextBytes(signed);
        System.arraycopy(new byte[] {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'}, 0, signed, 0, 8);
        for (byte version = 0; version < 4; version++) {
            signed[8] = version;
            byte[] copy = signed.clone();
            assertThrows(MalformedTensorFileException.class, () -> list("random.h5", copy, ReadLimits.DEFAULTS));
        }
    }

    @Test
    void corruptedStructureIsMalformedOrStillLists() throws IOException {
        byte[] legacy = Files.readAllBytes(Fixtures.reference("keras-dense").resolve("legacy.h5"));
        Random random = new Random(7);
        for (int round = 0; round < 300; round++) {
            byte[] bytes = legacy.clone();
            for (int k = 0; k < 1 + round % 4; k++) {
                bytes[random.nextInt(10_300)] = (byte) random.nextInt(256);
            }
            listOrMalformed(bytes, "round " + round);
        }
    }

    @Test
    void aRangeOutsideTheFileIsMalformed() {
        BytesInputFile file = new BytesInputFile("outer.keras", new byte[100]);
        assertThrows(MalformedTensorFileException.class, () -> READER.list(file, 50, 51, ReadLimits.DEFAULTS));
        assertThrows(MalformedTensorFileException.class, () -> READER.list(file, -1, 10, ReadLimits.DEFAULTS));
    }

    /** Lists within a time bound; the only exception allowed is the malformed-file one. */
    private static void listOrMalformed(byte[] bytes, String what) {
        assertTimeoutPreemptively(
                Duration.ofSeconds(10),
                () -> {
                    try {
                        TensorListing listing = list("bad.h5", bytes, ReadLimits.DEFAULTS);
                        for (StoredTensor t : listing.tensors()) {
                            assertTrue(
                                    t.data().decoder() != null
                                            || t.data().offset() + t.data().length() <= bytes.length,
                                    what);
                        }
                    } catch (MalformedTensorFileException expected) {
                        assertTrue(
                                expected.getMessage().startsWith("Malformed tensor file 'bad.h5'"),
                                expected.getMessage());
                    } catch (Throwable other) {
                        fail(what + ": " + other, other);
                    }
                },
                what);
    }

    private static double[] doubles(StoredTensor t) {
        java.nio.DoubleBuffer b = java.nio.ByteBuffer.wrap(StoredTensors.bytes(t))
                .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .asDoubleBuffer();
        double[] out = new double[b.remaining()];
        b.get(out);
        return out;
    }

    private static byte[] le16(int... values) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(values.length * 2).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putShort((short) v);
        }
        return b.array();
    }

    private static byte[] le32(int... values) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(values.length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putInt(v);
        }
        return b.array();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void repeatedLayerNamesAreWalkedOnce() throws Exception {
        // 1,000 repeats of one layer, each with 1,000 weight names: the layer is walked once (1,000 names, one
        // tensor). Walking every repeat would visit a million names, past the 2,000 this limit allows.
        byte[] bytes = Files.readAllBytes(golden("repeated.h5"));
        TensorListing listing =
                list("repeated.h5", bytes, new ReadLimits(ReadLimits.DEFAULT_MAX_HEADER_BYTES, 2000, 64));
        assertEquals(
                List.of("dense/kernel"),
                listing.tensors().stream().map(StoredTensor::name).toList());
    }
}
