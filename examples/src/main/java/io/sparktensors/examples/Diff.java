package io.sparktensors.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparktensors.spark.functions.TensorFunctions;
import io.sparktensors.spark.source.TensorsDataSource;
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

    public static Result compare(
            SparkSession spark, String a, String b, double tolerance, Map<String, String> options) {
        TensorFunctions.register(spark);
        Dataset<Row> left = spark.read()
                .format(TensorsDataSource.SHORT_NAME)
                .options(options)
                .load(a);
        Dataset<Row> right = spark.read()
                .format(TensorsDataSource.SHORT_NAME)
                .options(options)
                .load(b);
        Map<String, String> kindA = kinds(left);
        Map<String, String> kindB = kinds(right);
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
        left.createOrReplaceTempView("diff_a");
        right.createOrReplaceTempView("diff_b");
        List<Row> rows = spark.sql("""
        SELECT name, sum(d.count), sum(d.differing), max(d.max_abs), max(d.max_rel),
               sum(d.mse * d.count) / greatest(sum(d.count), 1), sum(d.non_finite)
        FROM (SELECT a.name, tensor_diff_stats(a.data, b.data, a.dtype) AS d
              FROM diff_a a JOIN diff_b b ON a.name = b.name AND a.chunk = b.chunk
              WHERE a.dtype = b.dtype AND a.shape = b.shape AND a.chunk_count = b.chunk_count)
        GROUP BY name""").collectAsList();
        Map<String, Numbers> compared = new TreeMap<>();
        boolean valuesEqual = true;
        for (Row r : rows) {
            Numbers n = new Numbers(r.getLong(1), r.getLong(2), r.getDouble(3), r.getDouble(4), r.getDouble(5));
            compared.put(r.getString(0), n);
            // With a tolerance, values may differ by up to it (a NaN against a number, or infinities, never do).
            valuesEqual &= tolerance > 0 ? n.maxAbs() <= tolerance && !nonFiniteDiffers(r) : n.differing() == 0;
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

    private static boolean nonFiniteDiffers(Row r) {
        return r.getLong(6) > 0;
    }

    /** dtype and shape of every tensor, by name. */
    private static Map<String, String> kinds(Dataset<Row> df) {
        Map<String, String> out = new TreeMap<>();
        for (Row r : df.where("chunk = 0")
                .selectExpr("name", "dtype", "cast(shape AS string)")
                .collectAsList()) {
            out.put(r.getString(0), r.getString(1) + r.getString(2));
        }
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
