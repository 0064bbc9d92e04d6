package io.sparktensors.format.tensorflow;

import static io.sparktensors.format.tensorflow.TestBundles.DT_COMPLEX64;
import static io.sparktensors.format.tensorflow.TestBundles.DT_DOUBLE;
import static io.sparktensors.format.tensorflow.TestBundles.DT_FLOAT;
import static io.sparktensors.format.tensorflow.TestBundles.DT_INT16;
import static io.sparktensors.format.tensorflow.TestBundles.DT_INT64;
import static io.sparktensors.format.tensorflow.TestBundles.DT_RESOURCE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.format.DType;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorListing;
import io.sparktensors.format.tensorflow.TestBundles.Bundle;
import io.sparktensors.format.tensorflow.TestBundles.Proto;
import io.sparktensors.io.LocalFolderFiles;
import io.sparktensors.io.LocalInputFile;
import io.sparktensors.testing.Fixtures;
import io.sparktensors.testing.StoredTensors;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TensorFlowReaderTest {
    private static final String SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE";

    @TempDir
    Path dir;

    static TensorListing list(Path index) throws IOException {
        return list(index, ReadLimits.DEFAULTS);
    }

    static TensorListing list(Path index, ReadLimits limits) throws IOException {
        return new TensorFlowReader().list(new LocalInputFile(index), LocalFolderFiles.beside(index), limits);
    }

    static Map<String, StoredTensor> byName(TensorListing listing) {
        Map<String, StoredTensor> out = new LinkedHashMap<>();
        listing.tensors().forEach(t -> out.put(t.name(), t));
        return out;
    }

    @Test
    void readsSavedModelVariablesAsTensorFlowWroteThem() throws IOException {
        Path folder = Fixtures.reference("tf-savedmodel");
        TensorListing listing = list(folder.resolve("saved_model/variables/variables.index"));
        StoredTensors.assertMatches(listing, Fixtures.expected(folder), Set.of());
        assertEquals(
                List.of("_CHECKPOINTABLE_OBJECT_GRAPH: the object graph that names the variables, not a weight"),
                listing.skipped());
        assertEquals(
                Map.of(
                        "tensorflow.num_shards",
                        "1",
                        "tensorflow.endianness",
                        "little",
                        "tensorflow.names",
                        "object_graph"),
                listing.metadata());
        assertEquals("tensorflow", new TensorFlowReader().name());
    }

    @Test
    void readsKeysAcrossBlocksWithPrefixCompression() throws IOException {
        Bundle bundle = new Bundle();
        bundle.entriesPerBlock = 3;
        bundle.restartInterval = 2;
        Map<String, float[]> values = new LinkedHashMap<>();
        for (int layer = 0; layer < 6; layer++) {
            for (String part : List.of("bias", "kernel")) {
                String name = String.format("model/layer_%02d/%s", layer, part);
                float[] v = new float[part.equals("bias") ? 3 : 6];
                for (int i = 0; i < v.length; i++) {
                    v[i] = layer * 100 + i + (part.equals("bias") ? 0.5f : 0f);
                }
                values.put(name, v);
                long[] dims = part.equals("bias") ? new long[] {3} : new long[] {2, 3};
                bundle.tensor(name + SUFFIX, DT_FLOAT, dims, floats(ByteOrder.LITTLE_ENDIAN, v));
            }
        }
        byte[] index = bundle.index();
        assertTrue(countDataBlocks(index) > 3, "the test table spans several data blocks");
        Map<String, StoredTensor> tensors = byName(list(bundle.write(dir, "ckpt-1", index)));
        assertEquals(values.keySet(), tensors.keySet());
        for (Map.Entry<String, float[]> e : values.entrySet()) {
            StoredTensor t = tensors.get(e.getKey());
            assertEquals(DType.F32, t.dtype());
            assertArrayEquals(floats(ByteOrder.LITTLE_ENDIAN, e.getValue()), StoredTensors.bytes(t), e.getKey());
        }
        assertArrayEquals(
                floats(ByteOrder.LITTLE_ENDIAN, new float[] {203, 204, 205}),
                StoredTensors.rows(tensors.get("model/layer_02/kernel"), 1, 1));
    }

    @Test
    void namesTensorsAfterTheObjectGraphAndSkipsBookkeeping() throws IOException {
        Proto graph = new Proto()
                .message(1, new Proto().message(1, new Proto().varint(1, 1).string(2, "layer")))
                .message(
                        1,
                        new Proto()
                                .message(
                                        2,
                                        new Proto()
                                                .string(1, "VARIABLE_VALUE")
                                                .string(2, "dense/kernel")
                                                .string(3, "layer/kernel" + SUFFIX)))
                .message(
                        1,
                        new Proto()
                                .message(
                                        2,
                                        new Proto()
                                                .string(1, "VARIABLE_VALUE")
                                                .string(2, "")
                                                .string(3, "layer/bias" + SUFFIX)));
        Bundle bundle = new Bundle()
                .tensor("layer/kernel" + SUFFIX, DT_FLOAT, new long[] {1, 2}, floats(ByteOrder.LITTLE_ENDIAN, 1, 2))
                .tensor("layer/bias" + SUFFIX, DT_FLOAT, new long[] {2}, floats(ByteOrder.LITTLE_ENDIAN, 3, 4))
                .tensor("save_counter" + SUFFIX, DT_INT64, new long[0], new byte[8])
                .stringScalar("_CHECKPOINTABLE_OBJECT_GRAPH", graph.build());
        TensorListing listing = list(bundle.write(dir, "ckpt-2"));
        assertEquals(
                List.of("layer/bias", "dense/kernel"),
                List.copyOf(byName(listing).keySet()));
        assertEquals(
                List.of(
                        "_CHECKPOINTABLE_OBJECT_GRAPH: the object graph that names the variables, not a weight",
                        "save_counter: the count of saves tf.train.Checkpoint keeps, not a model weight"),
                listing.skipped());
        assertEquals("object_graph", listing.metadata().get("tensorflow.names"));
    }

    @Test
    void variablesSharingAFullNameAreNamedByTheirKeys() throws IOException {
        // Two modules each with a tf.Variable named "w": one full name, two checkpoint keys.
        Proto graph = new Proto()
                .message(
                        1,
                        new Proto()
                                .message(
                                        2,
                                        new Proto()
                                                .string(1, "VARIABLE_VALUE")
                                                .string(2, "w")
                                                .string(3, "encoder/w" + SUFFIX)))
                .message(
                        1,
                        new Proto()
                                .message(
                                        2,
                                        new Proto()
                                                .string(1, "VARIABLE_VALUE")
                                                .string(2, "w")
                                                .string(3, "decoder/w" + SUFFIX)))
                .message(
                        1,
                        new Proto()
                                .message(
                                        2,
                                        new Proto()
                                                .string(1, "VARIABLE_VALUE")
                                                .string(2, "scale")
                                                .string(3, "head/s" + SUFFIX)));
        Bundle bundle = new Bundle()
                .tensor("encoder/w" + SUFFIX, DT_FLOAT, new long[] {1}, floats(ByteOrder.LITTLE_ENDIAN, 1))
                .tensor("decoder/w" + SUFFIX, DT_FLOAT, new long[] {1}, floats(ByteOrder.LITTLE_ENDIAN, 2))
                .tensor("head/s" + SUFFIX, DT_FLOAT, new long[] {1}, floats(ByteOrder.LITTLE_ENDIAN, 3))
                .stringScalar("_CHECKPOINTABLE_OBJECT_GRAPH", graph.build());
        Map<String, StoredTensor> t = byName(list(bundle.write(dir, "clash")));
        assertEquals(java.util.Set.of("encoder/w", "decoder/w", "scale"), t.keySet());
        assertArrayEquals(floats(ByteOrder.LITTLE_ENDIAN, 2), StoredTensors.bytes(t.get("decoder/w")));
    }

    @Test
    void byteSwapsBigEndianBundles() throws IOException {
        float[] f = {1.5f, -2f, 3.25f, 4f, 5f, -6.5f};
        short[] s = {1, -2, 0x1234};
        double d = Math.PI;
        float[] complex = {1, 2, 3, 4};
        Bundle bundle = new Bundle()
                .tensor("f", DT_FLOAT, new long[] {2, 3}, floats(ByteOrder.BIG_ENDIAN, f))
                .tensor(
                        "s",
                        DT_INT16,
                        new long[] {3},
                        ByteBuffer.allocate(6)
                                .order(ByteOrder.BIG_ENDIAN)
                                .putShort(s[0])
                                .putShort(s[1])
                                .putShort(s[2])
                                .array())
                .tensor(
                        "d",
                        DT_DOUBLE,
                        new long[0],
                        ByteBuffer.allocate(8).putDouble(d).array())
                .tensor("c", DT_COMPLEX64, new long[] {2}, floats(ByteOrder.BIG_ENDIAN, complex));
        bundle.bigEndian = true;
        TensorListing listing = list(bundle.write(dir, "be"));
        assertEquals("big", listing.metadata().get("tensorflow.endianness"));
        Map<String, StoredTensor> t = byName(listing);
        assertArrayEquals(floats(ByteOrder.LITTLE_ENDIAN, f), StoredTensors.bytes(t.get("f")));
        assertArrayEquals(floats(ByteOrder.LITTLE_ENDIAN, 4f, 5f, -6.5f), StoredTensors.rows(t.get("f"), 1, 1));
        assertArrayEquals(
                ByteBuffer.allocate(6)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .putShort(s[0])
                        .putShort(s[1])
                        .putShort(s[2])
                        .array(),
                StoredTensors.bytes(t.get("s")));
        assertArrayEquals(
                ByteBuffer.allocate(8)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .putDouble(d)
                        .array(),
                StoredTensors.bytes(t.get("d")));
        assertEquals(DType.C64, t.get("c").dtype());
        assertArrayEquals(floats(ByteOrder.LITTLE_ENDIAN, complex), StoredTensors.bytes(t.get("c")));
    }

    @Test
    void skipsStringsUnsupportedDtypesAndSlicedVariables() throws IOException {
        byte[] sliced = new Proto()
                .varint(1, DT_FLOAT)
                .message(2, TestBundles.shape(4, 2))
                .message(
                        7,
                        new Proto()
                                .message(1, new Proto().varint(1, 0).varint(2, 2))
                                .message(1, new Proto()))
                .message(
                        7,
                        new Proto()
                                .message(1, new Proto().varint(1, 2).varint(2, 2))
                                .message(1, new Proto()))
                .build();
        byte[] sliceKey = "\0\u0001part".getBytes(StandardCharsets.ISO_8859_1);
        Bundle bundle = new Bundle()
                .tensor("w", DT_FLOAT, new long[] {1}, floats(ByteOrder.LITTLE_ENDIAN, 7))
                .stringScalar("vocab" + SUFFIX, "hello".getBytes(StandardCharsets.UTF_8))
                .tensor("handle", DT_RESOURCE, new long[0], new byte[0])
                .entry("part", sliced)
                .entry(sliceKey, TestBundles.entryProto(DT_FLOAT, new long[] {2, 2}, 0, 0, 16, 0));
        TensorListing listing = list(bundle.write(dir, "mixed"));
        assertEquals(List.of("w"), List.copyOf(byName(listing).keySet()));
        assertEquals(
                List.of(
                        "\\u0000\\u0001part: one slice of a partitioned variable; sliced variables are not supported",
                        "handle: DT_RESOURCE has no safetensors dtype",
                        "part: a partitioned variable saved in 2 slices; sliced variables are not supported",
                        "vocab: DT_STRING holds strings, not numbers"),
                listing.skipped());
        assertEquals("checkpoint_keys", listing.metadata().get("tensorflow.names"));
    }

    @Test
    void readsEmptyTensors() throws IOException {
        Bundle bundle = new Bundle().tensor("empty", DT_FLOAT, new long[] {0, 4}, new byte[0]);
        StoredTensor t = list(bundle.write(dir, "e")).tensors().get(0);
        assertArrayEquals(new long[] {0, 4}, t.shape());
        assertEquals(0, StoredTensors.bytes(t).length);
    }

    @Test
    void decodersSurviveSerialization() throws Exception {
        Bundle bundle = new Bundle().tensor("w", DT_FLOAT, new long[] {2}, floats(ByteOrder.LITTLE_ENDIAN, 1, 2));
        StoredTensor t = list(bundle.write(dir, "ser")).tensors().get(0);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (var out = new java.io.ObjectOutputStream(bytes)) {
            out.writeObject(t);
        }
        try (var in = new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
            StoredTensor back = (StoredTensor) in.readObject();
            assertEquals(t, back);
            assertFalse(back.data().isPlain());
            assertArrayEquals(floats(ByteOrder.LITTLE_ENDIAN, 1, 2), StoredTensors.bytes(back));
        }
    }

    static byte[] floats(ByteOrder order, float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(order);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    /** Data blocks of a test table: the entries of its index block (one per block, each a restart point). */
    private static int countDataBlocks(byte[] table) {
        ByteBuffer b = ByteBuffer.wrap(table).order(ByteOrder.LITTLE_ENDIAN);
        int footer = table.length - 48;
        List<Long> handle = new ArrayList<>();
        int pos = footer;
        for (int i = 0; i < 4; i++) {
            long v = 0;
            for (int shift = 0; ; shift += 7) {
                int x = table[pos++] & 0xff;
                v |= (long) (x & 0x7f) << shift;
                if (x < 0x80) {
                    break;
                }
            }
            handle.add(v);
        }
        int indexEnd = (int) (handle.get(2) + handle.get(3));
        return b.getInt(indexEnd - 4);
    }

    @Test
    void aCheckFedPieceByPieceVerifiesTheWholeTensor() throws Exception {
        Path source = Fixtures.reference("tf-savedmodel").resolve("saved_model").resolve("variables");
        for (boolean corrupt : new boolean[] {false, true}) {
            Path copy = java.nio.file.Files.createDirectories(dir.resolve("check-" + corrupt));
            java.nio.file.Files.copy(source.resolve("variables.index"), copy.resolve("variables.index"));
            byte[] data = java.nio.file.Files.readAllBytes(source.resolve("variables.data-00000-of-00001"));
            StoredTensor w = byName(list(source.resolve("variables.index"))).get("w");
            if (corrupt) {
                data[(int) w.data().offset()] ^= 1;
            }
            java.nio.file.Files.write(copy.resolve("variables.data-00000-of-00001"), data);
            StoredTensor t = byName(list(copy.resolve("variables.index"))).get("w");
            io.sparktensors.format.TensorDecoder.Check check =
                    t.data().decoder().newCheck();
            for (long row = 0; row < t.dim(0); row++) { // one row at a time: no single read covers the tensor
                byte[] piece = StoredTensors.rows(t, row, 1);
                check.update(piece, 0, piece.length);
            }
            if (corrupt) {
                Exception e = org.junit.jupiter.api.Assertions.assertThrows(
                        io.sparktensors.errors.MalformedTensorFileException.class, check::finish);
                assertTrue(e.getMessage().contains("CRC32C"), e.getMessage());
            } else {
                check.finish();
            }
        }
    }
}
