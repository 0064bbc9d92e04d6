package io.sparktensors.spark.write;

import static org.apache.spark.sql.functions.lit;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparktensors.format.DType;
import io.sparktensors.format.FloatConversion;
import io.sparktensors.testing.FaultyFileSystem;
import io.sparktensors.testing.Fixtures;
import io.sparktensors.testing.Hashes;
import io.sparktensors.testing.Outputs;
import io.sparktensors.testing.SparkTestBase;
import io.sparktensors.testing.TestCheckpoints;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@SparkTestBase.Master("local[2,3]")
class CheckpointWriterTest extends SparkTestBase {
    @TempDir
    Path dir;

    private Dataset<Row> read(Path p) {
        return spark.read().format("safetensors").load(p.toString());
    }

    @Test
    void aPlainScanIsWrittenFromItsFilesAndGivesTheSameBytesAsRows() throws Exception {
        // Every reference format: the fast path (the DataFrame is a scan) and the general path (a filter
        // forces every chunk through Spark rows and staging) write the same bytes, F32 conversion included.
        for (String[] ref : new String[][] {
            {"tiny-llama-sharded", ""},
            {"torch-zoo", "zoo.pt"},
            {"tf-savedmodel", "saved_model"},
            {"gguf-small", "small.gguf"}
        }) {
            String source = Fixtures.reference(ref[0]).resolve(ref[1]).toString();
            Dataset<Row> scan = spark.read()
                    .format("tensors")
                    .option("maxChunkBytes", "4096")
                    .load(source);
            Dataset<Row> filtered = scan.where("length(data) >= 0");
            assertTrue(DirectScanWrite.scanOf(scan) != null, "a plain scan takes the fast path");
            assertTrue(
                    DirectScanWrite.scanOf(scan.select("name", "dtype", "shape", "data")) != null,
                    "so does a projection");
            assertTrue(DirectScanWrite.scanOf(filtered) == null, "a filtered scan does not");
            Path fast = dir.resolve(ref[0] + "-fast");
            Path rows = dir.resolve(ref[0] + "-rows");
            scan.write()
                    .format("safetensors")
                    .option("maxShardSize", "20KB")
                    .option("dtype", "F32")
                    .save(fast.toString());
            filtered.write()
                    .format("safetensors")
                    .option("maxShardSize", "20KB")
                    .option("dtype", "F32")
                    .save(rows.toString());
            Map<String, byte[]> a = Outputs.files(fast);
            Map<String, byte[]> b = Outputs.files(rows);
            assertEquals(a.keySet(), b.keySet(), ref[0]);
            a.forEach((name, bytes) -> assertArrayEquals(bytes, b.get(name), ref[0] + " " + name));
        }
    }

    @Test
    void theFastPathRefusesATensorNameInTwoFiles() throws Exception {
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        TestCheckpoints.write(a, Map.of(), List.of(TestCheckpoints.random("w", DType.F32, new long[] {2}, 1)));
        TestCheckpoints.write(b, Map.of(), List.of(TestCheckpoints.random("w", DType.F32, new long[] {2}, 2)));
        Path out = dir.resolve("twice");
        Exception e = assertThrows(
                Exception.class,
                () -> spark.read()
                        .format("safetensors")
                        .load(a.toString(), b.toString())
                        .write()
                        .format("safetensors")
                        .save(out.toString()));
        assertTrue(e.getMessage().contains("Tensor 'w' appears in more than one file"), e.getMessage());
        assertFalse(Files.exists(out), "nothing is published");
    }

    /**
     * The shards are byte-identical to what huggingface_hub's save_torch_state_dict writes for the same tensors
     * in name order (golden hashes made by src/test/resources/golden/make_hf_name_order_golden.py), and the
     * index maps the same tensors to the same files.
     */
    @Test
    void writesTheShardsHuggingfaceHubWrites() throws Exception {
        JsonNode golden;
        try (var in = getClass().getResourceAsStream("/golden/hf-name-order.json")) {
            golden = new ObjectMapper().readTree(in);
        }
        Path sharded = Fixtures.reference("tiny-llama-sharded");
        for (var size : List.of("20KB", "60KB", "1GB")) {
            Path out = dir.resolve("out-" + size);
            read(sharded)
                    .write()
                    .format("safetensors")
                    .option("maxShardSize", size)
                    .save(out.toString());
            Map<String, byte[]> written = Outputs.files(out);
            JsonNode expected = golden.get(size);
            List<String> names = new java.util.ArrayList<>();
            expected.get("files").fieldNames().forEachRemaining(names::add);
            assertEquals(names, List.copyOf(written.keySet()), size);
            for (String name : names) {
                if (!name.endsWith(".json")) {
                    assertEquals(
                            expected.get("files").get(name).asText(),
                            Hashes.sha256(written.get(name)),
                            size + " " + name);
                }
            }
            if (names.contains("model.safetensors.index.json")) {
                JsonNode index = new ObjectMapper().readTree(written.get("model.safetensors.index.json"));
                assertEquals(expected.get("index").get("weight_map"), index.get("weight_map"), size);
                assertEquals(
                        expected.get("index").get("metadata").get("total_size"),
                        index.get("metadata").get("total_size"));
            }
        }
    }

    @Test
    void rewritesAReferenceSingleFileCheckpointByteForByte() throws Exception {
        Path single = Fixtures.reference("tiny-llama-bf16");
        Path out = dir.resolve("single");
        read(single).write().format("safetensors").save(out.toString());
        assertEquals(
                List.of("model.safetensors"), List.copyOf(Outputs.files(out).keySet()));
        assertArrayEquals(
                Files.readAllBytes(single.resolve("model.safetensors")),
                Files.readAllBytes(out.resolve("model.safetensors")));
    }

    @Test
    void roundTripsEveryDtypeAndChunkedTensors() throws Exception {
        Path zoo = Fixtures.reference("safetensors-zoo");
        Path out = dir.resolve("zoo");
        spark.read()
                .format("safetensors")
                .option("maxChunkBytes", "16")
                .load(zoo.toString())
                .write()
                .format("safetensors")
                .option("metadata.source", "generate.py")
                .save(out.toString());
        Map<String, byte[]> expected = Outputs.tensors(read(zoo));
        Map<String, byte[]> actual = Outputs.tensors(read(out));
        assertEquals(expected.keySet(), actual.keySet());
        expected.forEach((k, v) -> assertArrayEquals(v, actual.get(k), k));
        // Same tensors and layout as the reference file; only __metadata__ key order may differ (the reference
        // writes it in hash order, this writer sorted).
        byte[] ref = Files.readAllBytes(zoo.resolve("zoo.safetensors"));
        byte[] ours = Files.readAllBytes(out.resolve("model.safetensors"));
        assertEquals(ref.length, ours.length);
        int headerEnd =
                8 + (int) ByteBuffer.wrap(ref).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertArrayEquals(
                java.util.Arrays.copyOfRange(ref, headerEnd, ref.length),
                java.util.Arrays.copyOfRange(ours, headerEnd, ours.length));
    }

    @Test
    void roundTripsEveryRealSafetensorsFile() throws Exception {
        List<Path> sources;
        try (Stream<Path> s = Files.walk(Fixtures.root().resolve("real"))) {
            sources = s.filter(p -> p.toString().endsWith(".safetensors"))
                    .sorted()
                    .toList();
        }
        int i = 0;
        for (Path src : sources) {
            Path out = dir.resolve("real-" + i++);
            read(src)
                    .write()
                    .format("safetensors")
                    .option("maxShardSize", "1MB")
                    .save(out.toString());
            Map<String, byte[]> expected = Outputs.tensors(read(src));
            Map<String, byte[]> actual = Outputs.tensors(read(out));
            assertEquals(expected.keySet(), actual.keySet(), src.toString());
            expected.forEach((k, v) -> assertArrayEquals(v, actual.get(k), src + " " + k));
            List<Row> before =
                    read(src).select("name", "dtype", "shape").orderBy("name").collectAsList();
            List<Row> after =
                    read(out).select("name", "dtype", "shape").orderBy("name").collectAsList();
            assertEquals(before, after, src.toString());
        }
        assertTrue(sources.size() >= 20, "real files: " + sources.size());
    }

    @Test
    void shardsFollowTheGreedyRuleAndBigTensorsGetTheirOwnShard() throws Exception {
        Path src = TestCheckpoints.write(
                dir.resolve("src.safetensors"),
                null,
                List.of(
                        TestCheckpoints.random("a", DType.U8, new long[] {40}, 1),
                        TestCheckpoints.random("b", DType.U8, new long[] {150}, 2),
                        TestCheckpoints.random("c", DType.U8, new long[] {40}, 3),
                        TestCheckpoints.random("d", DType.U8, new long[] {40}, 4),
                        TestCheckpoints.random("e", DType.U8, new long[] {30}, 5)));
        Path out = dir.resolve("out");
        read(src)
                .write()
                .format("safetensors")
                .option("maxShardSize", "100")
                .option("filePrefix", "weights")
                .save(out.toString());
        // huggingface_hub: b (> 100) is closed first; then {a, c} (80), then {d, e} (70).
        String index = Files.readString(out.resolve("weights.safetensors.index.json"));
        assertTrue(index.contains("\"a\": \"weights-00002-of-00003.safetensors\""), index);
        assertTrue(index.contains("\"b\": \"weights-00001-of-00003.safetensors\""), index);
        assertTrue(index.contains("\"c\": \"weights-00002-of-00003.safetensors\""), index);
        assertTrue(index.contains("\"e\": \"weights-00003-of-00003.safetensors\""), index);
        assertTrue(index.contains("\"total_size\": 300"), index);
        assertEquals(5, read(out).count());
    }

    @Test
    void convertsFloatingTensorsAndLeavesOthers() throws Exception {
        float[] values = {1.0f, -2.5f, 3.14159265f, 65520f, 1e-8f, Float.NaN, Float.NEGATIVE_INFINITY, 0.1f};
        ByteBuffer f32 = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            f32.putFloat(v);
        }
        Path src = TestCheckpoints.write(
                dir.resolve("src.safetensors"),
                null,
                List.of(
                        new TestCheckpoints.Tensor("w", DType.F32, new long[] {2, 4}, f32.array()),
                        TestCheckpoints.random("ids", DType.I64, new long[] {3}, 9)));
        for (DType target : List.of(DType.BF16, DType.F16)) {
            Path out = dir.resolve("out-" + target);
            spark.read()
                    .format("safetensors")
                    .option("maxChunkBytes", "8")
                    .load(src.toString())
                    .write()
                    .format("safetensors")
                    .option("dtype", target.code().toLowerCase())
                    .save(out.toString());
            Map<String, Row> rows = new TreeMap<>();
            read(out).collectAsList().forEach(r -> rows.put(r.getString(0), r));
            assertEquals(target.code(), rows.get("w").getString(1));
            assertEquals("I64", rows.get("ids").getString(1));
            ByteBuffer got = ByteBuffer.wrap((byte[]) rows.get("w").get(6)).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) {
                int bits = Float.floatToRawIntBits(v);
                int expected = target == DType.BF16 ? FloatConversion.f32ToBf16(bits) : FloatConversion.f32ToF16(bits);
                assertEquals(expected, got.getShort() & 0xffff, target + " of " + v);
            }
        }
    }

    @Test
    void saveModesBehaveAsForFileSources() throws Exception {
        Path src = TestCheckpoints.write(
                dir.resolve("src.safetensors"),
                null,
                List.of(TestCheckpoints.random("a", DType.F32, new long[] {4}, 1)));
        Path other = TestCheckpoints.write(
                dir.resolve("other.safetensors"),
                null,
                List.of(TestCheckpoints.random("b", DType.F32, new long[] {4}, 2)));
        Path out = dir.resolve("out");
        read(src).write().format("safetensors").save(out.toString());
        Exception exists = assertThrows(
                Exception.class, () -> read(other).write().format("safetensors").save(out.toString()));
        assertTrue(exists.getMessage().contains("already exists"), exists.getMessage());
        read(other).write().format("safetensors").mode("ignore").save(out.toString());
        assertEquals(List.of("a"), names(out));
        Exception append = assertThrows(
                Exception.class,
                () -> read(other).write().format("safetensors").mode("append").save(out.toString()));
        assertTrue(append.getMessage().contains("Cannot append"), append.getMessage());
        Files.writeString(out.resolve("README.md"), "old");
        read(other).write().format("safetensors").mode("overwrite").save(out.toString());
        assertEquals(
                List.of("model.safetensors"),
                List.copyOf(Outputs.files(out).keySet()),
                "overwrite replaces everything");
        assertEquals(List.of("b"), names(out));
    }

    private List<String> names(Path p) {
        return read(p).select("name").orderBy("name").collectAsList().stream()
                .map(r -> r.getString(0))
                .toList();
    }

    @Test
    void badInputFailsBeforeAnythingIsPublished() throws Exception {
        Path src = TestCheckpoints.write(
                dir.resolve("src.safetensors"),
                null,
                List.of(
                        TestCheckpoints.random("a", DType.F32, new long[] {100, 4}, 1),
                        TestCheckpoints.random("b", DType.F32, new long[] {4}, 2)));
        Dataset<Row> chunked = spark.read()
                .format("safetensors")
                .option("maxChunkBytes", "400")
                .load(src.toString());
        record Case(String what, Dataset<Row> input, String message) {}
        List<Case> cases = List.of(
                new Case("duplicate names", read(src).union(read(src)), "appears 2 times"),
                new Case("missing chunk", chunked.where("NOT (name = 'a' AND chunk = 1)"), "chunks are missing"),
                new Case("unknown dtype", read(src).withColumn("dtype", lit("F31")), "unknown dtype 'F31'"),
                new Case("missing column", read(src).drop("shape"), "no column 'shape'"),
                new Case("wrong type", read(src).withColumn("dtype", lit(3)), "column 'dtype' must be string"),
                new Case(
                        "wrong data length",
                        read(src)
                                .withColumn(
                                        "data",
                                        org.apache.spark.sql.functions.expr(
                                                "IF(name = 'b', substring(data, 1, 10), data)")),
                        "needs 16"));
        for (Case c : cases) {
            Path out = dir.resolve("out-" + c.what().replace(' ', '-'));
            Exception e = assertThrows(
                    Exception.class,
                    () -> c.input().write().format("safetensors").save(out.toString()),
                    c.what());
            assertTrue(rootMessages(e).contains(c.message()), c.what() + ": " + rootMessages(e));
            assertFalse(Files.exists(out), c.what() + ": nothing is left at the target");
        }
    }

    @Test
    void aTaskThatFailsOnceIsRetriedAndTheOutputIsIdentical() throws Exception {
        Path sharded = Fixtures.reference("tiny-llama-sharded");
        Path clean = dir.resolve("clean");
        Path retried = dir.resolve("retried");
        read(sharded)
                .write()
                .format("safetensors")
                .option("maxShardSize", "30KB")
                .save(clean.toString());
        long faults = FaultyFileSystem.faultsInjected();
        read(sharded)
                .write()
                .format("safetensors")
                .option("maxShardSize", "30KB")
                .options(FaultyFileSystem.settings())
                .option(FaultyFileSystem.FAIL_AFTER_BYTES, "1000")
                .save(FaultyFileSystem.path(retried));
        Map<String, byte[]> a = Outputs.files(clean);
        Map<String, byte[]> b = Outputs.files(retried);
        assertTrue(FaultyFileSystem.faultsInjected() > faults, "first attempts failed and were retried");
        assertEquals(a.keySet(), b.keySet());
        a.forEach((k, v) -> assertArrayEquals(v, b.get(k), k));
        assertTrue(a.size() > 3, "several shards: " + a.keySet());
    }

    @Test
    void aJobThatFailsForGoodLeavesTheTargetAsItWas() throws Exception {
        Path sharded = Fixtures.reference("tiny-llama-sharded");
        Path fresh = dir.resolve("fresh");
        assertThrows(
                Exception.class,
                () -> read(sharded)
                        .write()
                        .format("safetensors")
                        .option("maxShardSize", "30KB")
                        .options(failEveryAttempt())
                        .save(FaultyFileSystem.path(fresh)));
        assertFalse(Files.exists(fresh), "no target folder, no staging");

        Path existing = dir.resolve("existing");
        read(Fixtures.reference("tiny-llama-bf16"))
                .write()
                .format("safetensors")
                .save(existing.toString());
        Map<String, byte[]> before = Outputs.files(existing);
        assertThrows(
                Exception.class,
                () -> read(sharded)
                        .write()
                        .format("safetensors")
                        .mode("overwrite")
                        .option("maxShardSize", "30KB")
                        .options(failEveryAttempt())
                        .save(FaultyFileSystem.path(existing)));
        Map<String, byte[]> after = Outputs.files(existing);
        assertEquals(before.keySet(), after.keySet(), "no new shard, no index, no staging");
        before.forEach((k, v) -> assertArrayEquals(v, after.get(k), k));
    }

    /** Every task's files fail after 1000 bytes, on every attempt. */
    private static Map<String, String> failEveryAttempt() {
        Map<String, String> options = new java.util.HashMap<>(FaultyFileSystem.settings());
        options.put(FaultyFileSystem.FAIL_AFTER_BYTES, "1000");
        options.put(FaultyFileSystem.FAIL_EVERY_ATTEMPT, "true");
        return options;
    }

    private static String rootMessages(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            sb.append(t.getMessage()).append(" | ");
        }
        return sb.toString();
    }
}
