package io.sparktensors.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.analysis.TensorChange;
import io.sparktensors.analysis.TensorStats;
import io.sparktensors.format.DType;
import io.sparktensors.spark.ComputedColumns;
import io.sparktensors.spark.functions.TensorFunctions;
import io.sparktensors.testing.SparkSessions;
import io.sparktensors.testing.TestCheckpoints;
import io.sparktensors.testing.TestCheckpoints.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code diff} and {@code report --against} on two checkpoints that differ in some chunks of some tensors:
 * the diff's numbers equal those of comparing every chunk value by value (the former way), and the report's
 * relative changes equal those computed here from the tensors' bytes.
 */
class CompareCheckpointsTest {
    private static SparkSession spark;
    private static Path dir;
    private static final Map<String, Tensor> A = new TreeMap<>();
    private static final Map<String, Tensor> B = new TreeMap<>();

    @BeforeAll
    static void start() throws Exception {
        spark = SparkSessions.local("CompareCheckpointsTest");
        dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "compare");
        List<Tensor> a = new ArrayList<>();
        a.add(TestCheckpoints.random("model.layers.0.self_attn.q_proj.weight", DType.BF16, new long[] {64, 32}, 1));
        a.add(TestCheckpoints.random("model.layers.0.self_attn.q_proj.bias", DType.BF16, new long[] {64}, 2));
        a.add(TestCheckpoints.random("model.layers.0.mlp.down_proj.weight", DType.F32, new long[] {32, 32}, 3));
        a.add(TestCheckpoints.random("model.layers.1.self_attn.q_proj.weight", DType.BF16, new long[] {64, 32}, 4));
        a.add(TestCheckpoints.random("model.layers.1.mlp.down_proj.weight", DType.F16, new long[] {32, 32}, 5));
        a.add(TestCheckpoints.random("model.embed_tokens.weight", DType.C64, new long[] {16, 8}, 6));
        a.add(TestCheckpoints.random("lm_head.weight", DType.I8, new long[] {16, 8}, 7));
        a.add(TestCheckpoints.random("only_in_a", DType.F32, new long[] {4}, 8));
        a.add(TestCheckpoints.random("reshaped", DType.F32, new long[] {4, 2}, 9));
        a.add(new Tensor("empty", DType.F32, new long[] {0}, new byte[0]));
        for (Tensor t : a) {
            A.put(t.name(), t);
        }
        for (Tensor t : a) {
            byte[] data = t.data().clone();
            switch (t.name()) {
                // Bytes changed in the first rows only, and near the end: some chunks differ, others do not.
                case "model.layers.0.self_attn.q_proj.weight", "model.layers.1.mlp.down_proj.weight" -> {
                    for (int i = 0; i < 40; i++) {
                        data[i * 3] ^= (byte) 0x15;
                    }
                    data[data.length - 2] ^= 0x01;
                }
                case "model.layers.1.self_attn.q_proj.weight", "lm_head.weight" -> data[7] ^= 0x40;
                case "model.embed_tokens.weight" -> data[100] ^= (byte) 0x80;
                default -> {}
            }
            if (t.name().equals("only_in_a")) {
                continue;
            }
            long[] shape = t.name().equals("reshaped") ? new long[] {2, 4} : t.shape();
            B.put(t.name(), new Tensor(t.name(), t.dtype(), shape, data));
        }
        B.put("only_in_b", TestCheckpoints.random("only_in_b", DType.F32, new long[] {4}, 10));
        TestCheckpoints.write(dir.resolve("a").resolve("m.safetensors"), Map.of(), List.copyOf(A.values()));
        TestCheckpoints.write(dir.resolve("b").resolve("m.safetensors"), Map.of(), List.copyOf(B.values()));
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static String a() {
        return dir.resolve("a").toString();
    }

    private static String b() {
        return dir.resolve("b").toString();
    }

    /** What the diff gave before hashing: every chunk of both compared value by value, aggregated by name. */
    private static Map<String, Row> everyChunkCompared(Map<String, String> options) {
        TensorFunctions.register(spark);
        spark.read().format("tensors").options(options).load(a()).createOrReplaceTempView("all_a");
        spark.read().format("tensors").options(options).load(b()).createOrReplaceTempView("all_b");
        Map<String, Row> out = new TreeMap<>();
        for (Row r : spark.sql("""
        SELECT name, sum(d.count), sum(d.differing), max(d.max_abs), max(d.max_rel),
               sum(d.mse * d.count) / greatest(sum(d.count), 1), sum(d.non_finite)
        FROM (SELECT a.name, tensor_diff_stats(a.data, b.data, a.dtype) AS d
              FROM all_a a JOIN all_b b ON a.name = b.name AND a.chunk = b.chunk
              WHERE a.dtype = b.dtype AND a.shape = b.shape AND a.chunk_count = b.chunk_count)
        GROUP BY name""").collectAsList()) {
            out.put(r.getString(0), r);
        }
        return out;
    }

    @Test
    void diffNumbersEqualThoseOfComparingEveryChunk() {
        for (Map<String, String> options : List.of(Map.<String, String>of(), Map.of("maxChunkBytes", "256"))) {
            Diff.Result r = Diff.compare(spark, a(), b(), 0, options);
            Map<String, Row> expected = everyChunkCompared(options);
            assertEquals(expected.keySet(), r.compared().keySet());
            expected.forEach((name, e) -> {
                Diff.Numbers n = r.compared().get(name);
                assertEquals(e.getLong(1), n.count(), name);
                assertEquals(e.getLong(2), n.differing(), name);
                assertEquals(e.getDouble(3), n.maxAbs(), name);
                assertEquals(e.getDouble(4), n.maxRel(), name);
                // A sum over chunks, in whatever order Spark adds them.
                assertEquals(e.getDouble(5), n.mse(), Math.ulp(e.getDouble(5)) * 16, name);
            });
            assertTrue(
                    r.compared().get("model.layers.0.self_attn.q_proj.weight").differing() > 0);
            assertEquals(
                    0, r.compared().get("model.layers.0.mlp.down_proj.weight").differing());
            assertEquals(List.of("only_in_a"), r.onlyInA());
            assertEquals(List.of("only_in_b"), r.onlyInB());
            assertEquals(Map.of("reshaped", "F32[4, 2] -> F32[2, 4]"), r.changed());
            assertFalse(r.equal());
        }
    }

    @Test
    void diffIsTheSameWithTheFunctionsOnRows() {
        Diff.Result inScan = Diff.compare(spark, a(), b(), 0, Map.of("maxChunkBytes", "256"));
        spark.conf().set(ComputedColumns.ENABLED, "false");
        try {
            Diff.Result onRows = Diff.compare(spark, a(), b(), 0, Map.of("maxChunkBytes", "256"));
            assertEquals(onRows, inScan);
        } finally {
            spark.conf().unset(ComputedColumns.ENABLED);
        }
        assertTrue(Diff.compare(spark, a(), a(), 0, Map.of()).equal());
    }

    @Test
    void reportComparesEachTensorExactly() {
        Report.Comparison c = Report.compare(spark, a(), b(), Map.of());
        Map<String, Report.Change> byName = new TreeMap<>();
        c.changes().forEach(x -> byName.put(x.name(), x));
        assertEquals(
                A.keySet().stream()
                        .filter(n -> B.containsKey(n) && !n.equals("reshaped"))
                        .toList(),
                List.copyOf(byName.keySet()));
        byName.forEach((name, x) -> {
            Tensor ta = A.get(name);
            assertEquals(TensorStats.of(ta.data(), ta.dtype()).sumSquares(), x.squares(), name);
            assertEquals(
                    TensorChange.squaredDistance(ta.data(), B.get(name).data(), ta.dtype()), x.squaredDistance(), name);
        });
        assertTrue(byName.get("lm_head.weight").relative() > 0);
        assertEquals(0, byName.get("model.layers.0.mlp.down_proj.weight").relative());
        assertEquals(
                Map.of(
                        "only_in_a", "only in A",
                        "only_in_b", "only in B",
                        "reshaped", "F32[4, 2] -> F32[2, 4]"),
                c.notCompared());

        // The heatmap's cells: each module's tensors of a layer together, in name order.
        Map<Integer, Map<String, Double>> expected = new TreeMap<>();
        for (int layer : List.of(0, 1)) {
            for (String module : List.of("self_attn.q_proj", "mlp.down_proj")) {
                double squares = 0;
                double distance = 0;
                for (String name : byName.keySet()) {
                    if (name.startsWith("model.layers." + layer + "." + module + ".")) {
                        Tensor ta = A.get(name);
                        squares += TensorStats.of(ta.data(), ta.dtype()).sumSquares();
                        distance += TensorChange.squaredDistance(
                                ta.data(), B.get(name).data(), ta.dtype());
                    }
                }
                expected.computeIfAbsent(layer, k -> new TreeMap<>())
                        .put(module, Math.sqrt(distance) / Math.sqrt(squares));
            }
        }
        assertEquals(expected, Report.heatmap(c.changes()));
        assertTrue(expected.get(0).get("self_attn.q_proj") > 0);
    }

    @Test
    void reportChunkedAddsChunksUp() {
        Report.Comparison whole = Report.compare(spark, a(), b(), Map.of());
        Report.Comparison chunked = Report.compare(spark, a(), b(), Map.of("maxChunkBytes", "256"));
        assertEquals(whole.changes().size(), chunked.changes().size());
        for (int i = 0; i < whole.changes().size(); i++) {
            Report.Change w = whole.changes().get(i);
            Report.Change c = chunked.changes().get(i);
            assertEquals(w.name(), c.name());
            assertEquals(w.squares(), c.squares(), Math.ulp(w.squares()) * 64, w.name());
            assertEquals(w.squaredDistance(), c.squaredDistance(), Math.ulp(w.squaredDistance()) * 64, w.name());
        }
    }

    @Test
    void modulesAreTheNameAfterTheLayerLessTheLastPart() {
        assertEquals("self_attn.q_proj", Report.moduleOf("model.layers.12.self_attn.q_proj.weight"));
        assertEquals("attn.c_attn", Report.moduleOf("transformer.h.3.attn.c_attn.bias"));
        assertEquals("input_layernorm", Report.moduleOf("model.layers.0.input_layernorm.weight"));
        assertEquals("model.embed_tokens", Report.moduleOf("model.embed_tokens.weight"));
    }
}
