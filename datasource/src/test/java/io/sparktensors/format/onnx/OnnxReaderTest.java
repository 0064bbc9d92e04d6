package io.sparktensors.format.onnx;

import static io.sparktensors.format.onnx.Proto.constant;
import static io.sparktensors.format.onnx.Proto.graphOf;
import static io.sparktensors.format.onnx.Proto.model;
import static io.sparktensors.format.onnx.Proto.of;
import static io.sparktensors.format.onnx.Proto.tensor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.DType;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorListing;
import io.sparktensors.io.FolderFiles;
import io.sparktensors.io.LocalFolderFiles;
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
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ONNX reader on reference and real models, on every storage form, and on hostile models. */
class OnnxReaderTest {
    private static final OnnxReader READER = new OnnxReader();
    private static final FolderFiles NO_FOLDER = (referrer, name) -> {
        throw new AssertionError("no sibling file expected, asked for " + name);
    };

    @TempDir
    Path dir;

    private static TensorListing list(Path file) throws IOException {
        return READER.list(new LocalInputFile(file), LocalFolderFiles.beside(file), ReadLimits.DEFAULTS);
    }

    private TensorListing listBytes(byte[] model) throws IOException {
        Path file = dir.resolve("model.onnx");
        Files.write(file, model);
        return list(file);
    }

    private static Map<String, StoredTensor> byName(TensorListing listing) {
        Map<String, StoredTensor> out = new HashMap<>();
        listing.tensors().forEach(t -> out.put(t.name(), t));
        return out;
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void referenceModelMatchesExpected() throws IOException {
        Path folder = Fixtures.reference("onnx-mlp");
        TensorListing listing = list(folder.resolve("model.onnx"));
        StoredTensors.assertMatches(listing, Fixtures.expected(folder), Set.of());
        assertTrue(listing.tensors().stream().allMatch(t -> t.data().isPlain()), "raw_data is listed as ranges");
        assertEquals("pytorch", listing.metadata().get("onnx.producer_name"));
        assertTrue(listing.metadata().get("onnx.opset_import").startsWith("ai.onnx:"));
    }

    @Test
    void externalDataMatchesExpected() throws IOException {
        Path folder = Fixtures.reference("onnx-mlp-external");
        TensorListing listing = list(folder.resolve("model.onnx"));
        StoredTensors.assertMatches(listing, Fixtures.expected(folder), Set.of());
        for (StoredTensor t : listing.tensors()) {
            assertTrue(t.data().isPlain());
            assertEquals(folder.resolve("weights.bin").toString(), t.data().location(), t.name());
        }
    }

    @Test
    void realRawDataModels() throws IOException {
        Map<String, Integer> counts = Map.of("conv2d.onnx", 2, "linear.onnx", 5, "sine.onnx", 6, "mnist.onnx", 18);
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            TensorListing listing = list(Fixtures.real("burn-onnx/" + e.getKey()));
            assertEquals(e.getValue(), listing.tensors().size(), e.getKey());
            for (StoredTensor t : listing.tensors()) {
                assertEquals(DType.F32, t.dtype(), e.getKey() + " " + t.name());
                assertTrue(t.data().isPlain());
                assertEquals(t.elementCount() * 4, t.data().length());
                assertEquals(t.data().length(), StoredTensors.bytes(t).length);
            }
        }
    }

    @Test
    void realDataTypesHoldOneToSixInEveryDtype() throws IOException {
        TensorListing listing = list(Fixtures.real("burn-onnx/data_types.onnx"));
        Map<String, DType> want = Map.ofEntries(
                Map.entry("const_f32", DType.F32),
                Map.entry("const_f64", DType.F64),
                Map.entry("const_f16", DType.F16),
                Map.entry("const_bf16", DType.BF16),
                Map.entry("const_i8", DType.I8),
                Map.entry("const_i16", DType.I16),
                Map.entry("const_i32", DType.I32),
                Map.entry("const_i64", DType.I64),
                Map.entry("const_u8", DType.U8),
                Map.entry("const_u16", DType.U16),
                Map.entry("const_u32", DType.U32),
                Map.entry("const_u64", DType.U64));
        Map<String, StoredTensor> tensors = byName(listing);
        // The file's BFLOAT16 raw_data holds the F32 bytes of 4, 5, 6 (its generator's slip): as BF16 that reads
        // 0, 4, 0, 5, 0, 6, which is what the file says.
        double[] bf16 = {0, 4, 0, 5, 0, 6};
        assertEquals(want.keySet(), tensors.keySet());
        for (Map.Entry<String, DType> e : want.entrySet()) {
            StoredTensor t = tensors.get(e.getKey());
            assertEquals(e.getValue(), t.dtype(), e.getKey());
            assertArrayEquals(new long[] {2, 3}, t.shape(), e.getKey());
            ByteBuffer b = le(StoredTensors.bytes(t));
            for (int i = 1; i <= 6; i++) {
                double v = switch (t.dtype()) {
                    case F32 -> b.getFloat();
                    case F64 -> b.getDouble();
                    case F16 -> io.sparktensors.format.FloatConversion.f16ToF32(b.getShort() & 0xffff);
                    case BF16 -> Float.intBitsToFloat((b.getShort() & 0xffff) << 16);
                    case I8, U8 -> b.get();
                    case I16, U16 -> b.getShort();
                    case I32, U32 -> b.getInt();
                    default -> b.getLong();
                };
                assertEquals(t.dtype() == DType.BF16 ? bf16[i - 1] : i, v, e.getKey() + "[" + (i - 1) + "]");
            }
        }
        assertEquals("onnx-ir-test", listing.metadata().get("onnx.producer_name"));
        assertEquals("13", listing.metadata().get("onnx.ir_version"));
    }

    @Test
    void realFloatDataModel() throws IOException {
        TensorListing listing = list(Fixtures.real("hls4ml-onnx/two_layer_keras.onnx"));
        assertEquals(4, listing.tensors().size());
        assertTrue(listing.tensors().stream()
                .allMatch(t -> t.dtype() == DType.F32 && t.data().isPlain()));
        StoredTensor w = byName(listing).get("W");
        assertArrayEquals(new long[] {10, 32}, w.shape());
        // The first float_data value, read off the file with xxd: bytes 09 4f 70 3e.
        assertEquals(
                Float.intBitsToFloat(0x3e704f09), le(StoredTensors.bytes(w)).getFloat());
    }

    @Test
    void packedFixedWidthFieldsAreRanges() throws IOException {
        TensorListing listing = listBytes(model(graphOf(
                tensor("f", 1, 2).packedFloats(4, 1.5f, -2f),
                tensor("d", 11, 3).packedDoubles(10, 1, 2, 3),
                tensor("c", 14, 1).packedFloats(4, 1f, -1f))));
        Map<String, StoredTensor> t = byName(listing);
        assertTrue(t.values().stream().allMatch(x -> x.data().isPlain()));
        ByteBuffer f = le(StoredTensors.bytes(t.get("f")));
        assertEquals(1.5f, f.getFloat());
        assertEquals(-2f, f.getFloat());
        assertEquals(3.0, le(StoredTensors.bytes(t.get("d"))).getDouble(16));
        assertEquals(DType.C64, t.get("c").dtype());
        assertEquals(-1f, le(StoredTensors.bytes(t.get("c"))).getFloat(4));
    }

    @Test
    void packedVarintFieldsAreDecoded() throws IOException {
        TensorListing listing = listBytes(model(graphOf(
                tensor("i8", 3, 3).packedVarints(5, -128, 0, 127),
                tensor("u8", 2, 2).packedVarints(5, 0, 255),
                tensor("i16", 5, 2).packedVarints(5, -32768, 32767),
                tensor("u16", 4, 1).packedVarints(5, 65535),
                tensor("i32", 6, 2, 1).packedVarints(5, -5, Integer.MAX_VALUE),
                tensor("bool", 9, 3).packedVarints(5, 1, 0, 1),
                tensor("f16", 10, 1).packedVarints(5, 0x3c00),
                tensor("bf16", 16, 1).packedVarints(5, 0xbf80),
                tensor("f8", 17, 1).packedVarints(5, 0x38),
                tensor("i64", 7, 2).packedVarints(7, Long.MIN_VALUE, -1),
                tensor("u32", 12, 1).packedVarints(11, 0xffff_ffffL),
                tensor("u64", 13, 1).packedVarints(11, -1L),
                tensor("scalar", 6).packedVarints(5, 42))));
        Map<String, StoredTensor> t = byName(listing);
        assertArrayEquals(new byte[] {-128, 0, 127}, StoredTensors.bytes(t.get("i8")));
        assertArrayEquals(new byte[] {0, -1}, StoredTensors.bytes(t.get("u8")));
        assertArrayEquals(new byte[] {0, -128, -1, 127}, StoredTensors.bytes(t.get("i16")));
        assertArrayEquals(new byte[] {-1, -1}, StoredTensors.bytes(t.get("u16")));
        ByteBuffer i32 = le(StoredTensors.bytes(t.get("i32")));
        assertEquals(-5, i32.getInt());
        assertEquals(Integer.MAX_VALUE, i32.getInt());
        assertArrayEquals(new byte[] {1, 0, 1}, StoredTensors.bytes(t.get("bool")));
        assertEquals(DType.F16, t.get("f16").dtype());
        assertArrayEquals(new byte[] {0x00, 0x3c}, StoredTensors.bytes(t.get("f16")));
        assertArrayEquals(new byte[] {(byte) 0x80, (byte) 0xbf}, StoredTensors.bytes(t.get("bf16")));
        assertEquals(DType.F8_E4M3, t.get("f8").dtype());
        assertArrayEquals(new byte[] {0x38}, StoredTensors.bytes(t.get("f8")));
        ByteBuffer i64 = le(StoredTensors.bytes(t.get("i64")));
        assertEquals(Long.MIN_VALUE, i64.getLong());
        assertEquals(-1L, i64.getLong());
        assertArrayEquals(new byte[] {-1, -1, -1, -1}, StoredTensors.bytes(t.get("u32")));
        assertArrayEquals(new byte[] {-1, -1, -1, -1, -1, -1, -1, -1}, StoredTensors.bytes(t.get("u64")));
        assertEquals(42, le(StoredTensors.bytes(t.get("scalar"))).getInt());
        assertEquals(0, t.get("scalar").rank());
        assertFalse(t.get("i32").data().decoder().splittable());
        assertEquals(
                Integer.MAX_VALUE, le(StoredTensors.rows(t.get("i32"), 1, 1)).getInt(), "row 1 alone");
    }

    @Test
    void constantsSubgraphsAndSkippedValues() throws IOException {
        Proto thenBranch = graphOf(tensor("inner", 1, 1).bytes(9, new byte[4]));
        Proto ifNode = of().string(2, "y")
                .string(4, "If")
                .message(5, of().string(1, "then_branch").varint(20, 5).message(6, thenBranch));
        Proto graph = graphOf(
                        tensor("w", 1, 2).bytes(9, new byte[8]),
                        tensor("s", 8, 1).bytes(6, "text".getBytes()),
                        tensor("c128", 15, 1).packedDoubles(10, 1, 2),
                        tensor("u4", 21, 2).bytes(9, new byte[1]),
                        tensor("unpacked", 1, 2)
                                .tag(4, 5)
                                .raw(new byte[4])
                                .tag(4, 5)
                                .raw(new byte[4]))
                .message(1, constant("k", tensor("", 7, 2).packedVarints(7, 3, 4)))
                .message(
                        1,
                        of().string(2, "kf")
                                .string(4, "Constant")
                                .message(
                                        5,
                                        of().string(1, "value_float")
                                                .varint(20, 1)
                                                .tag(2, 5)
                                                .raw(new byte[4])))
                .message(1, ifNode)
                .message(15, of().message(1, tensor("sparse", 1, 4)));
        TensorListing listing = listBytes(model(graph));
        Map<String, StoredTensor> t = byName(listing);
        assertEquals(Set.of("w", "k", "inner"), t.keySet());
        assertEquals(DType.I64, t.get("k").dtype());
        assertEquals(4, le(StoredTensors.bytes(t.get("k"))).getLong(8));
        List<String> skipped = listing.skipped();
        assertEquals(6, skipped.size(), skipped.toString());
        assertTrue(skipped.stream().anyMatch(s -> s.contains("'s'") && s.contains("STRING")), skipped.toString());
        assertTrue(skipped.stream().anyMatch(s -> s.contains("'c128'") && s.contains("COMPLEX128")));
        assertTrue(skipped.stream().anyMatch(s -> s.contains("'u4'") && s.contains("UINT4")));
        assertTrue(skipped.stream().anyMatch(s -> s.contains("'unpacked'") && s.contains("unpacked")));
        assertTrue(skipped.stream().anyMatch(s -> s.contains("'kf'") && s.contains("value_float")));
        assertTrue(skipped.stream().anyMatch(s -> s.contains("sparse_initializer 'sparse'")));
    }

    @Test
    void metadataPropsAreKept() throws IOException {
        byte[] model = of().varint(1, 9)
                .message(14, of().string(1, "author").string(2, "me"))
                .message(14, of().string(1, "onnx.ir_version").string(2, "spoofed"))
                .message(7, graphOf())
                .build();
        TensorListing listing = listBytes(model);
        assertEquals("me", listing.metadata().get("author"));
        assertEquals("9", listing.metadata().get("onnx.ir_version"));
        assertEquals("g", listing.metadata().get("onnx.graph_name"));
    }

    // Hostile and corrupt models: each is a MalformedTensorFileException naming the fault.

    private MalformedTensorFileException malformed(byte[] model, String expected) {
        return malformed(model, ReadLimits.DEFAULTS, expected);
    }

    private MalformedTensorFileException malformed(byte[] model, ReadLimits limits, String expected) {
        MalformedTensorFileException e = assertThrows(
                MalformedTensorFileException.class,
                () -> READER.list(new BytesInputFile("m.onnx", model), NO_FOLDER, limits));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().startsWith("Malformed tensor file 'm.onnx'"), e.getMessage());
        return e;
    }

    private static Proto externalTensor(String name, String location, String offset, String length) {
        Proto t = tensor(name, 1, 2)
                .varint(14, 1)
                .message(13, of().string(1, "location").string(2, location));
        if (offset != null) {
            t.message(13, of().string(1, "offset").string(2, offset));
        }
        if (length != null) {
            t.message(13, of().string(1, "length").string(2, length));
        }
        return t;
    }

    private TensorListing listExternal(Proto tensor) throws IOException {
        return listBytes(model(graphOf(tensor)));
    }

    @Test
    void externalDataOffsetsAndLengths() throws IOException {
        Files.write(dir.resolve("w.bin"), new byte[] {0, 0, 0, 0, 0, 0, (byte) 0x80, 0x3f, 0, 0, 0, 0x40});
        StoredTensor t =
                listExternal(externalTensor("e", "w.bin", "4", null)).tensors().get(0);
        assertEquals(dir.resolve("w.bin").toString(), t.data().location());
        ByteBuffer b = le(StoredTensors.bytes(t));
        assertEquals(1f, b.getFloat());
        assertEquals(2f, b.getFloat());
        MalformedTensorFileException e = assertThrows(
                MalformedTensorFileException.class, () -> listExternal(externalTensor("e", "w.bin", "8", null)));
        assertTrue(e.getMessage().contains("beyond the end of 'w.bin'"), e.getMessage());
        e = assertThrows(
                MalformedTensorFileException.class, () -> listExternal(externalTensor("e", "w.bin", "0", "12")));
        assertTrue(e.getMessage().contains("differs from the 8 bytes"), e.getMessage());
        e = assertThrows(
                MalformedTensorFileException.class, () -> listExternal(externalTensor("e", "w.bin", "-4", null)));
        assertTrue(e.getMessage().contains("not a non-negative integer"), e.getMessage());
        assertThrows(
                java.io.FileNotFoundException.class, () -> listExternal(externalTensor("e", "nope.bin", null, null)));
    }

    @Test
    void externalDataNeverLeavesTheFolder() throws IOException {
        Path inside = Files.createDirectory(dir.resolve("models"));
        Path secret = Files.write(dir.resolve("secret.bin"), new byte[8]);
        Files.createSymbolicLink(inside.resolve("link.bin"), secret);
        Files.write(inside.resolve("model.onnx"), new byte[0]);
        for (String location : List.of("../secret.bin", "/etc/passwd", "link.bin", "sub/../../secret.bin")) {
            Path file = inside.resolve("model.onnx");
            Files.write(file, model(graphOf(externalTensor("e", location, null, null))));
            MalformedTensorFileException e =
                    assertThrows(MalformedTensorFileException.class, () -> list(file), location);
            assertTrue(e.getMessage().contains("not inside its folder"), e.getMessage());
        }
    }

    @Test
    void lengthsBeyondTheirMessageOrFile() {
        malformed(of().varint(1, 8).tag(7, 2).rawVarint(1000).raw(new byte[10]).build(), "runs past the end");
        byte[] inner = model(graphOf(tensor("t", 1, 1).tag(9, 2).rawVarint(50).raw(new byte[4])));
        malformed(inner, "runs past the end");
        malformed(of().tag(7, 2).rawVarint(Long.MAX_VALUE).build(), "runs past the end");
    }

    @Test
    void varintOverflowAndBadTags() {
        byte[] overflow = of().tag(1, 0)
                .raw(
                        (byte) 0xff,
                        (byte) 0xff,
                        (byte) 0xff,
                        (byte) 0xff,
                        (byte) 0xff,
                        (byte) 0xff,
                        (byte) 0xff,
                        (byte) 0xff,
                        (byte) 0xff,
                        (byte) 0x7f)
                .build();
        malformed(overflow, "overflows 64 bits");
        malformed(of().tag(7, 3).build(), "wire type 3");
        malformed(of().tag(0, 0).rawVarint(1).build(), "is invalid");
        malformed(of().varint(7, 5).build(), "wire type 0 where 2 belongs");
        malformed("GGUF\u0003\u0000\u0000\u0000".getBytes(), "is invalid");
        malformed(of().varint(1, 8).build(), "has no graph");
    }

    @Test
    void nestingBeyondTheLimit() {
        Proto g = graphOf(tensor("deep", 1, 1).bytes(9, new byte[4]));
        for (int i = 0; i < 10; i++) {
            g = of().message(
                            1,
                            of().string(4, "If")
                                    .message(5, of().string(1, "then_branch").message(6, g)));
        }
        byte[] deep = model(g);
        malformed(deep, new ReadLimits(1 << 20, 100, 20), "nest deeper than the limit of 20");
    }

    @Test
    void shapesAndSizesThatDoNotAddUp() {
        malformed(model(graphOf(tensor("big", 1, 1L << 32, 1L << 32).bytes(9, new byte[4]))), "overflows 64 bits");
        malformed(model(graphOf(tensor("neg", 1).packedVarints(1, -1).bytes(9, new byte[4]))), "negative dimension");
        malformed(model(graphOf(tensor("r", 1, 3).bytes(9, new byte[8]))), "has 8 bytes but its shape [3] needs 12");
        malformed(model(graphOf(tensor("f", 1, 3).packedFloats(4, 1f, 2f))), "float_data has 8 bytes");
        malformed(model(graphOf(tensor("v", 6, 3).packedVarints(5, 1))), "cannot hold the 3 values");
        malformed(model(graphOf(tensor("n", 1, 3))), "holds no values");
        malformed(model(graphOf(tensor("w", 7, 1).packedVarints(5, 1))), "does not hold INT64 values");
        malformed(model(graphOf(tensor("b", 1, 1).bytes(9, new byte[4]).packedFloats(4, 1f))), "both raw_data");
        long[] dims = new long[65];
        Arrays.fill(dims, 1);
        malformed(model(graphOf(tensor("r", 1, dims))), "more than 64 dimensions");
        malformed(
                model(graphOf(tensor("d", 1, 1).bytes(9, new byte[4]))
                        .message(1, constant("d", tensor("", 1, 1).bytes(9, new byte[4])))),
                "ONNX names must be unique");
    }

    @Test
    void varintValuesAreCheckedWhenDecoded() throws IOException {
        TensorListing listing = listBytes(model(graphOf(
                tensor("range", 2, 2).packedVarints(5, 1, 256),
                tensor("count", 6, 2).packedVarints(5, 1, 2, 3),
                tensor("cut", 6, 2).bytes(5, new byte[] {1, (byte) 0x80}))));
        for (StoredTensor t : listing.tensors()) {
            Throwable e = assertThrows(java.io.UncheckedIOException.class, () -> StoredTensors.bytes(t))
                    .getCause();
            assertTrue(e instanceof MalformedTensorFileException, t.name() + ": " + e);
            assertTrue(e.getMessage().contains("'" + t.name() + "'"), e.getMessage());
        }
    }

    @Test
    void limitsOnStructureAndCounts() {
        byte[] model = model(graphOf(
                tensor("a", 1, 1).bytes(9, new byte[4]),
                tensor("b", 1, 1).bytes(9, new byte[4]),
                tensor("c", 1, 1).bytes(9, new byte[4])));
        malformed(model, new ReadLimits(10, 100, 10), "raise the read option maxHeaderBytes");
        malformed(model, new ReadLimits(1000, 2, 10), "raise the read option maxTensors");
    }

    @Test
    void corruptBytesGiveOnlyMalformedFiles() throws IOException {
        byte[] whole = model(graphOf(
                        tensor("a", 1, 2).bytes(9, new byte[8]),
                        tensor("b", 6, 2).packedVarints(5, 1, -2),
                        tensor("d", 11, 1).packedDoubles(10, 1))
                .message(1, constant("k", tensor("", 7, 2).packedVarints(7, 300, 4))));
        Corruptions.assertEveryByteChangeListsOrIsMalformed(READER, "m.onnx", whole, NO_FOLDER);
    }

    @Test
    void everyPrefixOfAModelIsMalformed() throws IOException {
        byte[] whole = model(graphOf(
                        tensor("a", 1, 2).bytes(9, new byte[8]),
                        tensor("b", 6, 2).packedVarints(5, 1, 2))
                .message(1, constant("k", tensor("", 1).bytes(9, new byte[4]))));
        assertEquals(
                3,
                READER.list(new BytesInputFile("m.onnx", whole), NO_FOLDER, ReadLimits.DEFAULTS)
                        .tensors()
                        .size());
        Corruptions.assertEveryPrefixIsMalformed(READER, "m.onnx", whole, NO_FOLDER);
    }
}
