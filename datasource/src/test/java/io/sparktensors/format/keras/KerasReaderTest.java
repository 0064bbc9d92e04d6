package io.sparktensors.format.keras;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jhdf.HdfFile;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorListing;
import io.sparktensors.io.LocalFolderFiles;
import io.sparktensors.io.LocalInputFile;
import io.sparktensors.testing.Fixtures;
import io.sparktensors.testing.StoredTensors;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Lists the Keras reference and real fixtures and checks names, dtypes, shapes and bytes. */
class KerasReaderTest {
    private static final KerasReader READER = new KerasReader();
    /** The Keras 3 path of each tensor of reference/keras-dense, which records no variable names. */
    private static final Map<String, String> KERAS3_PATHS = Map.of(
            "sequential/dense_a/kernel", "layers/dense/vars/0",
            "sequential/dense_a/bias", "layers/dense/vars/1",
            "sequential/dense_b/kernel", "layers/dense_1/vars/0",
            "sequential/dense_b/bias", "layers/dense_1/vars/1");

    static TensorListing list(Path file) throws IOException {
        return READER.list(new LocalInputFile(file), LocalFolderFiles.beside(file), ReadLimits.DEFAULTS);
    }

    static Map<String, StoredTensor> byName(TensorListing listing) {
        Map<String, StoredTensor> out = new LinkedHashMap<>();
        listing.tensors().forEach(t -> out.put(t.name(), t));
        return out;
    }

    static float[] floats(StoredTensor t) {
        ByteBuffer b = ByteBuffer.wrap(StoredTensors.bytes(t)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    /** jHDF's own decoding of a float dataset, an independent check of the bytes the listing points at. */
    static float[] jhdfFloats(Path file, String path) {
        try (HdfFile hdf = new HdfFile(file)) {
            return (float[]) hdf.getDatasetByPath(path).getDataFlat();
        }
    }

    @Test
    void nameIsKeras() {
        assertEquals("keras", READER.name());
    }

    @Test
    void legacyModelMatchesExpected() throws IOException {
        Path folder = Fixtures.reference("keras-dense");
        TensorListing listing = list(folder.resolve("legacy.h5"));
        StoredTensors.assertMatches(listing, Fixtures.expected(folder), Set.of());
        assertEquals(
                List.of(
                        "sequential/dense_a/kernel",
                        "sequential/dense_a/bias",
                        "sequential/dense_b/kernel",
                        "sequential/dense_b/bias"),
                List.copyOf(byName(listing).keySet()),
                "layer_names and weight_names order");
        assertEquals(
                Map.of("keras.layout", "legacy-h5-model", "keras.keras_version", "3.15.1", "keras.backend", "torch"),
                listing.metadata());
        assertTrue(listing.tensors().stream().allMatch(t -> t.data().isPlain()));
        assertEquals(List.of(), listing.skipped());
    }

    @Test
    void keras3WeightsMatchExpectedUnderTheirPaths() throws IOException {
        Path folder = Fixtures.reference("keras-dense");
        TensorListing listing = list(folder.resolve("model.weights.h5"));
        StoredTensors.assertMatches(listing, underKeras3Paths(Fixtures.expected(folder)), Set.of());
        assertEquals("keras3-weights", listing.metadata().get("keras.layout"));
        assertTrue(listing.tensors().stream().allMatch(t -> t.data().isPlain()));
    }

    @Test
    void weightsInsideAKerasZipAreListedInPlace() throws IOException {
        Path zip = Fixtures.reference("keras-dense").resolve("model.keras");
        long[] member = storedMember(zip, "model.weights.h5");
        TensorListing listing = READER.list(new LocalInputFile(zip), member[0], member[1], ReadLimits.DEFAULTS);
        assertEquals(zip.toString(), listing.location());
        StoredTensors.assertMatches(listing, underKeras3Paths(Fixtures.expected(zip.getParent())), Set.of());
        for (StoredTensor t : listing.tensors()) {
            assertEquals(zip.toString(), t.data().location());
            assertTrue(
                    t.data().offset() >= member[0]
                            && t.data().offset() + t.data().length() <= member[0] + member[1],
                    t.name() + " lies inside the member");
        }
    }

    @Test
    void qkerasModelFromItsZip(@TempDir Path tmp) throws IOException {
        Path zip = Fixtures.real("keras3-hls4ml/qkeras-v3_3layer.keras");
        Path weights = tmp.resolve("model.weights.h5");
        try (ZipFile z = new ZipFile(zip.toFile());
                InputStream in = z.getInputStream(z.getEntry("model.weights.h5"))) {
            Files.copy(in, weights);
        }
        Map<String, StoredTensor> tensors = byName(list(weights));
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("layers/q_dense/vars/0", new long[] {16, 64});
        shapes.put("layers/q_dense/vars/1", new long[] {64});
        shapes.put("layers/q_dense_1/vars/0", new long[] {64, 32});
        shapes.put("layers/q_dense_1/vars/1", new long[] {32});
        shapes.put("layers/q_dense_2/vars/0", new long[] {32, 32});
        shapes.put("layers/q_dense_2/vars/1", new long[] {32});
        shapes.put("layers/q_dense_3/vars/0", new long[] {32, 5});
        shapes.put("layers/q_dense_3/vars/1", new long[] {5});
        assertEquals(shapes.keySet(), tensors.keySet());
        shapes.forEach((name, shape) -> {
            assertEquals("F32", tensors.get(name).dtype().code(), name);
            assertArrayEquals(shape, tensors.get(name).shape(), name);
            assertArrayEquals(jhdfFloats(weights, name), floats(tensors.get(name)), name);
        });

        long[] member = storedMember(zip, "model.weights.h5");
        TensorListing inZip = READER.list(new LocalInputFile(zip), member[0], member[1], ReadLimits.DEFAULTS);
        for (StoredTensor t : inZip.tensors()) {
            assertArrayEquals(StoredTensors.bytes(tensors.get(t.name())), StoredTensors.bytes(t), t.name());
        }
    }

    @Test
    void keras2FullModelWithBidirectionalLstms() throws IOException {
        Path file = Fixtures.real("keras2-fdeep/lstm.h5");
        TensorListing listing = list(file);
        Map<String, StoredTensor> tensors = byName(listing);
        assertEquals(63, tensors.size());
        assertTrue(tensors.values().stream()
                .allMatch(t -> t.dtype().code().equals("F32") && t.data().isPlain()));
        assertEquals("legacy-h5-model", listing.metadata().get("keras.layout"));
        assertEquals("2.2.5", listing.metadata().get("keras.keras_version"));
        assertEquals("tensorflow", listing.metadata().get("keras.backend"));
        assertEquals(List.of(), listing.skipped());
        assertArrayEquals(new long[] {4, 32}, tensors.get("lstm_1/kernel").shape());
        assertArrayEquals(
                new long[] {6, 24},
                tensors.get("bidirectional_2/backward_lstm_5/recurrent_kernel").shape());
        assertArrayEquals(
                jhdfFloats(file, "model_weights/lstm_1/lstm_1/kernel:0"), floats(tensors.get("lstm_1/kernel")));
        assertArrayEquals(
                jhdfFloats(file, "model_weights/bidirectional_2/bidirectional_2/backward_lstm_5/bias:0"),
                floats(tensors.get("bidirectional_2/backward_lstm_5/bias")));
        assertTrue(tensors.keySet().stream().noneMatch(n -> n.endsWith(":0")));
    }

    @Test
    void keras2WeightsOnlyFile() throws IOException {
        Path file = Fixtures.real("keras2-hls4ml/KERAS_3layer_weights.h5");
        TensorListing listing = list(file);
        Map<String, StoredTensor> tensors = byName(listing);
        assertEquals(
                List.of(
                        "fc1_relu/kernel",
                        "fc1_relu/bias",
                        "fc2_relu/kernel",
                        "fc2_relu/bias",
                        "fc3_relu/kernel",
                        "fc3_relu/bias",
                        "output_softmax/kernel",
                        "output_softmax/bias"),
                List.copyOf(tensors.keySet()));
        assertEquals("legacy-h5-weights", listing.metadata().get("keras.layout"));
        assertEquals("2.0.0", listing.metadata().get("keras.keras_version"));
        assertArrayEquals(new long[] {16, 64}, tensors.get("fc1_relu/kernel").shape());
        assertArrayEquals(new long[] {5}, tensors.get("output_softmax/bias").shape());
        float[] kernel = floats(tensors.get("output_softmax/kernel"));
        assertArrayEquals(jhdfFloats(file, "output_softmax/output_softmax/kernel:0"), kernel);
        assertFalse(kernel[0] == 0 && kernel[1] == 0, "real weights, not zeros");
    }

    private static Map<String, Fixtures.Expected> underKeras3Paths(Map<String, Fixtures.Expected> expected) {
        Map<String, Fixtures.Expected> out = new LinkedHashMap<>();
        expected.forEach((name, e) -> out.put(KERAS3_PATHS.get(name), e));
        return out;
    }

    /** Offset and length of a stored (uncompressed) zip member's bytes, from its local header. */
    static long[] storedMember(Path zip, String name) throws IOException {
        long headerOffset = -1;
        long size;
        try (ZipFile z = new ZipFile(zip.toFile())) {
            ZipEntry entry = z.getEntry(name);
            assertEquals(ZipEntry.STORED, entry.getMethod());
            size = entry.getSize();
        }
        byte[] bytes = Files.readAllBytes(zip);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i + 30 < bytes.length && headerOffset < 0; i++) {
            if (b.getInt(i) == 0x04034b50) {
                int nameLength = b.getShort(i + 26) & 0xffff;
                if (new String(bytes, i + 30, nameLength, java.nio.charset.StandardCharsets.UTF_8).equals(name)) {
                    headerOffset = i;
                }
            }
        }
        int nameLength = b.getShort((int) headerOffset + 26) & 0xffff;
        int extraLength = b.getShort((int) headerOffset + 28) & 0xffff;
        return new long[] {headerOffset + 30 + nameLength + extraLength, size};
    }
}
