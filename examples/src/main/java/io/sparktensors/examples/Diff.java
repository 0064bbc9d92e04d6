package io.sparktensors.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code spark-tensors diff A B [--json] [--tolerance T]}: two checkpoints of any formats compared tensor by
 * tensor: names only in one of them, dtype or shape changes, and for the rest the difference statistics of
 * their values (chunk against chunk, on the executors). Equal means the same names, dtypes, shapes and
 * values; with a tolerance, values may differ by up to T (absolute).
 */
public final class Diff {
    /** A tensor's difference: values compared, values differing, largest absolute and relative difference, MSE. */
    public record Numbers(long count, long differing, double maxAbs, double maxRel, double mse) {}

    /** The comparison. */
    public record Result(
            List<String> onlyInA,
            List<String> onlyInB,
            Map<String, String> changed,
            Map<String, Numbers> compared,
            boolean equal) {}

    private Diff() {}

    /**
     * The comparison, in two passes. First one job over both checkpoints hashes every chunk in the scans
     * (SHA-256 of its bytes, see {@link ChunkDigests}): equal hashes mean equal bytes, so those chunks are equal
     * value for value without being decoded. Then only the chunks whose bytes differ are read again and
     * compared value by value ({@code tensor_diff_stats}, chunk against chunk, on the executors). The numbers
     * are those a comparison of every chunk gives: an equal chunk adds its values to the count and nothing
     * else.
     */
    public static Result compare(
            SparkSession spark, String a, String b, double tolerance, Map<String, String> options) {
        Dataset<Row> left = ChunkDigests.read(spark, a, options);
        Dataset<Row> right = ChunkDigests.read(spark, b, options);
        ChunkDigests.Sides sides = ChunkDigests.of(left, right, false);
        Map<String, String> kindA = kinds(sides.a());
        Map<String, String> kindB = kinds(sides.b());
        List<String> onlyA =
                kindA.keySet().stream().filter(n -> !kindB.containsKey(n)).toList();
        List<String> onlyB =
                kindB.keySet().stream().filter(n -> !kindA.containsKey(n)).toList();
        Map<String, String> changed = new TreeMap<>();
        kindA.forEach((n, k) -> {
            if (kindB.containsKey(n) && !kindB.get(n).equals(k)) {
                changed.put(n, k + " -> " + kindB.get(n));
            }
        });
        List<String> comparable = ChunkDigests.comparable(sides);
        Map<String, Row> differing =
                differingValues(spark, left, right, ChunkDigests.differingChunks(sides, comparable));
        Map<String, Numbers> compared = new TreeMap<>();
        boolean valuesEqual = true;
        for (String name : comparable) {
            long count = sides.a().get(name).values();
            Row r = differing.get(name);
            Numbers n = r == null
                    ? new Numbers(count, 0, 0, 0, 0)
                    : new Numbers(
                            count, r.getLong(1), r.getDouble(2), r.getDouble(3), r.getDouble(4) / Math.max(count, 1));
            long nonFinite = r == null ? 0 : r.getLong(5);
            compared.put(name, n);
            // With a tolerance, values may differ by up to it (a NaN against a number, or infinities, never do).
            valuesEqual &= tolerance > 0 ? n.maxAbs() <= tolerance && nonFinite == 0 : n.differing() == 0;
        }
        // A tensor in both whose values were not compared (chunked differently on the two sides) is not equal.
        kindA.forEach((n, k) -> {
            if (k.equals(kindB.get(n)) && !compared.containsKey(n)) {
                changed.put(n, "values not compared: chunked differently (raise maxChunkBytes)");
            }
        });
        boolean equal = onlyA.isEmpty() && onlyB.isEmpty() && changed.isEmpty() && valuesEqual;
        return new Result(onlyA, onlyB, changed, compared, equal);
    }

    /**
     * Per tensor, over its chunks whose bytes differ: name, differing, max_abs, max_rel, the sum of mse times
     * count, non_finite.
     */
    private static Map<String, Row> differingValues(
            SparkSession spark, Dataset<Row> left, Dataset<Row> right, List<Row> chunks) {
        Map<String, Row> out = new TreeMap<>();
        if (chunks.isEmpty()) {
            return out;
        }
        ChunkDigests.only(spark, left, chunks).createOrReplaceTempView("diff_a");
        ChunkDigests.only(spark, right, chunks).createOrReplaceTempView("diff_b");
        for (Row r : spark.sql("""
        SELECT name, sum(d.differing), max(d.max_abs), max(d.max_rel), sum(d.mse * d.count), sum(d.non_finite)
        FROM (SELECT a.name, tensor_diff_stats(a.data, b.data, a.dtype) AS d
              FROM diff_a a JOIN diff_b b ON a.name = b.name AND a.chunk = b.chunk)
        GROUP BY name""").collectAsList()) {
            out.put(r.getString(0), r);
        }
        return out;
    }

    /** dtype and shape of every tensor, by name. */
    private static Map<String, String> kinds(Map<String, ChunkDigests.Tensor> tensors) {
        Map<String, String> out = new TreeMap<>();
        tensors.forEach((name, t) -> out.put(name, t.kind()));
        return out;
    }

    public static void print(Result r, PrintStream out) {
        r.onlyInA().forEach(n -> out.println("only in A  " + n));
        r.onlyInB().forEach(n -> out.println("only in B  " + n));
        r.changed().forEach((n, c) -> out.println("changed    " + n + "  " + c));
        String row = "%-60s %14s %12s %12s %12s %12s%n";
        out.printf(row, "NAME", "VALUES", "DIFFERING", "MAX_ABS", "MAX_REL", "MSE");
        r.compared()
                .forEach((n, d) ->
                        out.printf(row, n, d.count(), d.differing(), fmt(d.maxAbs()), fmt(d.maxRel()), fmt(d.mse())));
        out.println(r.equal() ? "EQUAL" : "DIFFERENT");
    }

    public static String json(Result r) throws Exception {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        root.put("equal", r.equal());
        ArrayNode a = root.putArray("only_in_a");
        r.onlyInA().forEach(a::add);
        ArrayNode b = root.putArray("only_in_b");
        r.onlyInB().forEach(b::add);
        ObjectNode changed = root.putObject("changed");
        r.changed().forEach(changed::put);
        ObjectNode compared = root.putObject("compared");
        r.compared()
                .forEach((n, d) -> compared.putObject(n)
                        .put("count", d.count())
                        .put("differing", d.differing())
                        .put("max_abs", d.maxAbs())
                        .put("max_rel", d.maxRel())
                        .put("mse", d.mse()));
        return m.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    }

    private static String fmt(double d) {
        return String.format("%.3g", d);
    }
}
