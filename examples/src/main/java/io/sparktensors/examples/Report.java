package io.sparktensors.examples;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.call_function;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;

import io.sparktensors.analysis.TensorChange;
import io.sparktensors.format.DType;
import io.sparktensors.spark.functions.TensorFunctions;
import io.sparktensors.spark.source.TensorsDataSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import scala.Tuple3;

/**
 * {@code spark-tensors report PATH --out report.html [--histogram NAME]... [--against OTHER]}: one
 * self-contained page (XHTML with inline SVG, no script, no network) with parameter counts by layer and
 * dtype, weight norms across depth, NaN and Inf findings, and value histograms of chosen tensors (by default
 * the largest); with {@code --against}, first what changed from PATH to OTHER: the relative change
 * ||A - B|| / ||A|| of every layer's modules as a heatmap across depth, and of the other tensors as bars.
 * Every bar and cell carries its number in {@code data-value} and in its label, so the page can be checked by
 * a program.
 */
public final class Report {
    private static final Pattern LAYER = Pattern.compile("(?:^|\\.)(?:layers|layer|h|blocks|block)\\.(\\d+)\\.");
    private static final int BINS = 32;

    /** A tensor's summary: dtype, parameters and its statistics. */
    public record TensorSummary(
            String name, String dtype, long parameters, long nans, long infs, double l2, double min, double max) {}

    private Report() {}

    /** The layer a tensor belongs to (its index), or -1 for embeddings, heads and other tensors. */
    public static int layerOf(String name) {
        Matcher m = LAYER.matcher(name);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    public static List<TensorSummary> summaries(SparkSession spark, String path, Map<String, String> options) {
        TensorFunctions.register(spark);
        spark.read()
                .format(TensorsDataSource.SHORT_NAME)
                .options(options)
                .load(path)
                .createOrReplaceTempView("report_t");
        List<TensorSummary> out = new ArrayList<>();
        for (Row r : spark.sql("""
        SELECT name, first(dtype), first(aggregate(shape, 1L, (a, d) -> a * d)),
               tensor_stats_merge(tensor_stats(data, dtype)) AS s
        FROM report_t GROUP BY name ORDER BY name""").collectAsList()) {
            Row s = r.getStruct(3);
            if (s == null) {
                continue; // an empty tensor: no values to summarise
            }
            out.add(new TensorSummary(
                    r.getString(0),
                    r.getString(1),
                    r.getLong(2),
                    s.getLong(1),
                    s.getLong(2),
                    s.getDouble(s.fieldIndex("l2")),
                    s.getDouble(s.fieldIndex("min")),
                    s.getDouble(s.fieldIndex("max"))));
        }
        return out;
    }

    /** The module of a tensor: its name after the layer number (or the whole name), less the last part. */
    public static String moduleOf(String name) {
        Matcher m = LAYER.matcher(name);
        String rest = m.find() ? name.substring(m.end()) : name;
        int dot = rest.lastIndexOf('.');
        return dot > 0 ? rest.substring(0, dot) : rest;
    }

    /**
     * A tensor compared with its namesake in the other checkpoint: the sum of squares of its (finite) values,
     * and the squared distance between the two over the pairs finite in both.
     */
    public record Change(String name, double squares, double squaredDistance) {
        /** ||A - B|| / ||A||: 0 when nothing moved, infinite when a zero tensor did. */
        public double relative() {
            return Report.relative(squares, squaredDistance);
        }
    }

    /** Two checkpoints compared: every tensor both hold alike, and the others with the reason. */
    public record Comparison(List<Change> changes, Map<String, String> notCompared) {}

    static double relative(double squares, double squaredDistance) {
        if (squares == 0) {
            return squaredDistance == 0 ? 0 : Double.POSITIVE_INFINITY;
        }
        return Math.sqrt(squaredDistance) / Math.sqrt(squares);
    }

    /**
     * Compares checkpoint {@code a} with {@code b}. One job hashes every chunk of both and sums A's squares, in
     * the scans; only chunks whose bytes differ are read again and decoded, to measure how far they moved.
     * Chunks add up in chunk order, so the numbers do not depend on how Spark splits the work.
     */
    public static Comparison compare(SparkSession spark, String a, String b, Map<String, String> options) {
        Dataset<Row> left = ChunkDigests.read(spark, a, options);
        Dataset<Row> right = ChunkDigests.read(spark, b, options);
        ChunkDigests.Sides sides = ChunkDigests.of(left, right, true);
        List<String> comparable = ChunkDigests.comparable(sides);
        List<Row> differing = ChunkDigests.differingChunks(sides, comparable);
        Map<String, Map<Integer, Double>> distances = new TreeMap<>();
        if (!differing.isEmpty()) {
            Dataset<Row> x = ChunkDigests.only(spark, left, differing).alias("x");
            Dataset<Row> y = ChunkDigests.only(spark, right, differing).alias("y");
            for (Tuple3<String, Integer, Double> d : x.join(
                            y,
                            col("x.name")
                                    .equalTo(col("y.name"))
                                    .and(col("x.chunk").equalTo(col("y.chunk"))))
                    .select(col("x.name"), col("x.chunk"), col("x.data"), col("y.data"), col("x.dtype"))
                    .map(
                            (MapFunction<Row, Tuple3<String, Integer, Double>>) r -> new Tuple3<>(
                                    r.getString(0),
                                    r.getInt(1),
                                    TensorChange.squaredDistance(
                                            (byte[]) r.get(2), (byte[]) r.get(3), DType.fromCode(r.getString(4)))),
                            Encoders.tuple(Encoders.STRING(), Encoders.INT(), Encoders.DOUBLE()))
                    .collectAsList()) {
                distances.computeIfAbsent(d._1(), k -> new TreeMap<>()).put(d._2(), d._3());
            }
        }
        List<Change> changes = new ArrayList<>();
        for (String name : comparable) {
            double distance = 0;
            for (double d : distances.getOrDefault(name, Map.of()).values()) {
                distance += d;
            }
            changes.add(new Change(name, sides.a().get(name).sumSquares(), distance));
        }
        Map<String, String> notCompared = new TreeMap<>();
        sides.a().forEach((name, t) -> {
            ChunkDigests.Tensor other = sides.b().get(name);
            if (other == null) {
                notCompared.put(name, "only in A");
            } else if (!other.kind().equals(t.kind())) {
                notCompared.put(name, t.kind() + " -> " + other.kind());
            } else if (other.chunkCount() != t.chunkCount()) {
                notCompared.put(name, "chunked differently (raise maxChunkBytes)");
            }
        });
        sides.b().keySet().stream()
                .filter(n -> !sides.a().containsKey(n))
                .forEach(n -> notCompared.put(n, "only in B"));
        return new Comparison(changes, notCompared);
    }

    /**
     * The relative change of each layer's modules, layer by module: over the tensors of a cell (a module's
     * weight and bias, say), in name order, sqrt(sum of squared distances) / sqrt(sum of squares).
     */
    public static Map<Integer, Map<String, Double>> heatmap(List<Change> changes) {
        Map<Integer, Map<String, double[]>> sums = new TreeMap<>();
        for (Change c : changes.stream()
                .sorted(java.util.Comparator.comparing(Change::name))
                .toList()) {
            int layer = layerOf(c.name());
            if (layer >= 0) {
                double[] s = sums.computeIfAbsent(layer, k -> new TreeMap<>())
                        .computeIfAbsent(moduleOf(c.name()), k -> new double[2]);
                s[0] += c.squares();
                s[1] += c.squaredDistance();
            }
        }
        Map<Integer, Map<String, Double>> out = new TreeMap<>();
        sums.forEach((layer, modules) -> modules.forEach(
                (module, s) -> out.computeIfAbsent(layer, k -> new TreeMap<>()).put(module, relative(s[0], s[1]))));
        return out;
    }

    private static String changesSection(String against, Comparison c) {
        StringBuilder h = new StringBuilder();
        long moved = c.changes().stream().filter(x -> x.squaredDistance() > 0).count();
        h.append("<h2>What changed against ")
                .append(esc(against))
                .append("</h2>\n<p id=\"changed\" data-value=\"")
                .append(moved)
                .append("\">")
                .append(moved)
                .append(" of ")
                .append(c.changes().size())
                .append(" tensors compared moved; ")
                .append(c.notCompared().size())
                .append(" not compared. Each cell: ||A - B|| / ||A|| over the values finite in both.</p>\n");
        Map<Integer, Map<String, Double>> heat = heatmap(c.changes());
        h.append(heat.isEmpty() ? "<p>No numbered layers.</p>\n" : heatSvg("changes", heat));
        List<String> labels = new ArrayList<>();
        List<Double> values = new ArrayList<>();
        for (Change x : c.changes()) {
            if (layerOf(x.name()) < 0) {
                labels.add(x.name());
                values.add(x.relative());
            }
        }
        if (!labels.isEmpty()) {
            h.append("<h3>Other tensors</h3>\n").append(bars("changes-other", labels, values, null, "%.6g"));
        }
        if (!c.notCompared().isEmpty()) {
            h.append("<h3>Not compared</h3><table id=\"not-compared\"><tr><th>tensor</th><th>why</th></tr>");
            c.notCompared()
                    .forEach((n, why) -> h.append("<tr><td>")
                            .append(esc(n))
                            .append("</td><td>")
                            .append(esc(why))
                            .append("</td></tr>"));
            h.append("</table>\n");
        }
        return h.toString();
    }

    /** A heatmap as inline SVG: a row per layer, a column per module; each cell has its label and value. */
    static String heatSvg(String id, Map<Integer, Map<String, Double>> heat) {
        List<String> modules = heat.values().stream()
                .flatMap(m -> m.keySet().stream())
                .distinct()
                .sorted()
                .toList();
        double max = heat.values().stream()
                .flatMap(m -> m.values().stream())
                .filter(Double::isFinite)
                .mapToDouble(Double::doubleValue)
                .max()
                .orElse(0);
        int cellW = 120;
        int cellH = 22;
        int left = 80;
        int top = 110;
        StringBuilder s = new StringBuilder();
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"")
                .append(esc(id))
                .append("\" width=\"")
                .append(left + cellW * modules.size() + 10)
                .append("\" height=\"")
                .append(top + cellH * heat.size() + 10)
                .append("\">");
        for (int j = 0; j < modules.size(); j++) {
            int x = left + j * cellW + cellW / 2;
            s.append("<text x=\"")
                    .append(x)
                    .append("\" y=\"")
                    .append(top - 6)
                    .append("\" font-size=\"11\" transform=\"rotate(-35 ")
                    .append(x)
                    .append(' ')
                    .append(top - 6)
                    .append(")\">")
                    .append(esc(modules.get(j)))
                    .append("</text>");
        }
        int i = 0;
        for (Map.Entry<Integer, Map<String, Double>> row : heat.entrySet()) {
            int y = top + i * cellH;
            s.append("<text x=\"")
                    .append(left - 6)
                    .append("\" y=\"")
                    .append(y + 15)
                    .append("\" text-anchor=\"end\" font-size=\"12\">layer ")
                    .append(row.getKey())
                    .append("</text>");
            for (int j = 0; j < modules.size(); j++) {
                Double v = row.getValue().get(modules.get(j));
                if (v == null) {
                    continue;
                }
                double t = Double.isFinite(v) ? (max > 0 ? v / max : 0) : 1;
                int shade = (int) Math.round(255 - 200 * t);
                String text = String.format(Locale.ROOT, "%.6g", v);
                int x = left + j * cellW;
                s.append("<g class=\"cell\" data-label=\"layer ")
                        .append(row.getKey())
                        .append(' ')
                        .append(esc(modules.get(j)))
                        .append("\" data-value=\"")
                        .append(text)
                        .append("\"><rect x=\"")
                        .append(x)
                        .append("\" y=\"")
                        .append(y)
                        .append("\" width=\"")
                        .append(cellW - 2)
                        .append("\" height=\"")
                        .append(cellH - 2)
                        .append("\" fill=\"rgb(255,")
                        .append(shade)
                        .append(',')
                        .append(shade)
                        .append(")\" stroke=\"#ccc\"/><text x=\"")
                        .append(x + cellW / 2)
                        .append("\" y=\"")
                        .append(y + 15)
                        .append("\" text-anchor=\"middle\" font-size=\"11\">")
                        .append(String.format(Locale.ROOT, "%.3g", v))
                        .append("</text></g>");
            }
            i++;
        }
        return s.append("</svg>\n").toString();
    }

    /**
     * Counts of finite values in {@link #BINS} equal bins between the tensor's min and max. Names come from the
     * file, so they are compared as values, never put into SQL text.
     */
    static long[] histogram(SparkSession spark, TensorSummary t) {
        long[] bins = new long[BINS];
        if (Double.isNaN(t.min()) || Double.isNaN(t.max())) {
            return bins; // no finite value
        }
        double width = t.max() > t.min() ? (t.max() - t.min()) / BINS : 1;
        Column v = col("v");
        Column bin = least(
                lit(BINS - 1), floor(v.minus(lit(t.min())).divide(lit(width))).cast("int"));
        for (Row r : spark.table("report_t")
                .where(col("name").equalTo(lit(t.name())))
                .select(explode(call_function("tensor_to_double_array", col("data"), col("dtype")))
                        .as("v"))
                .where(not(isnan(v)).and(abs(v).notEqual(lit(Double.POSITIVE_INFINITY))))
                .groupBy(bin.as("b"))
                .count()
                .collectAsList()) {
            bins[r.getInt(0)] = r.getLong(1);
        }
        return bins;
    }

    public static void write(
            SparkSession spark, String path, Path out, List<String> histogramNames, Map<String, String> options)
            throws IOException {
        write(spark, path, null, out, histogramNames, options);
    }

    /** The page; with {@code against} (another checkpoint), first what changed from {@code path} to it. */
    public static void write(
            SparkSession spark,
            String path,
            String against,
            Path out,
            List<String> histogramNames,
            Map<String, String> options)
            throws IOException {
        Comparison comparison = against == null ? null : compare(spark, path, against, options);
        List<TensorSummary> tensors = summaries(spark, path, options);
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><meta charset=\"utf-8\"/>")
                .append("<title>")
                .append(esc(path))
                .append("</title><style>")
                .append(
                        "body{font:14px sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;")
                .append("padding:2px 8px;text-align:right}th:first-child,td:first-child{text-align:left}")
                .append("</style></head><body>\n<h1>")
                .append(esc(path))
                .append("</h1>\n");
        if (comparison != null) {
            h.append(changesSection(against, comparison));
        }

        Map<String, long[]> byDtype = new TreeMap<>();
        for (TensorSummary t : tensors) {
            byDtype.computeIfAbsent(t.dtype(), k -> new long[2])[0]++;
            byDtype.get(t.dtype())[1] += t.parameters();
        }
        h.append("<h2>Totals</h2><table id=\"totals\"><tr><th>dtype</th><th>tensors</th><th>parameters</th></tr>");
        byDtype.forEach((d, v) -> h.append("<tr><td>")
                .append(d)
                .append("</td><td>")
                .append(v[0])
                .append("</td><td>")
                .append(v[1])
                .append("</td></tr>"));
        h.append("</table>\n");

        // Parameters by layer and dtype.
        TreeMap<Integer, Map<String, Long>> params = new TreeMap<>();
        TreeMap<Integer, Double> squares = new TreeMap<>();
        for (TensorSummary t : tensors) {
            int layer = layerOf(t.name());
            params.computeIfAbsent(layer, k -> new TreeMap<>()).merge(t.dtype(), t.parameters(), Long::sum);
            if (layer >= 0) {
                squares.merge(layer, t.l2() * t.l2(), Double::sum);
            }
        }
        List<String> labels = new ArrayList<>();
        List<Double> values = new ArrayList<>();
        List<String> series = new ArrayList<>();
        params.forEach((layer, m) -> m.forEach((dtype, n) -> {
            labels.add((layer < 0 ? "other" : "layer " + layer) + " " + dtype);
            values.add((double) n);
            series.add(dtype);
        }));
        h.append("<h2>Parameters by layer and dtype</h2>\n").append(bars("params", labels, values, series, "%.0f"));

        List<String> depth = new ArrayList<>();
        List<Double> norms = new ArrayList<>();
        squares.forEach((layer, sq) -> {
            depth.add("layer " + layer);
            norms.add(Math.sqrt(sq));
        });
        h.append("<h2>Weight norms across depth (L2 of each layer's finite values)</h2>\n")
                .append(depth.isEmpty() ? "<p>No numbered layers.</p>" : bars("norms", depth, norms, null, "%.6g"));

        h.append("<h2>NaN and Inf</h2>\n");
        List<TensorSummary> bad =
                tensors.stream().filter(t -> t.nans() > 0 || t.infs() > 0).toList();
        if (bad.isEmpty()) {
            h.append("<p id=\"nonfinite\" data-value=\"0\">No tensor holds NaN or Inf.</p>\n");
        } else {
            h.append("<table id=\"nonfinite\" data-value=\"")
                    .append(bad.size())
                    .append("\"><tr><th>tensor</th><th>NaN</th><th>Inf</th></tr>");
            bad.forEach(t -> h.append("<tr><td>")
                    .append(esc(t.name()))
                    .append("</td><td>")
                    .append(t.nans())
                    .append("</td><td>")
                    .append(t.infs())
                    .append("</td></tr>"));
            h.append("</table>\n");
        }

        List<String> chosen = new ArrayList<>(histogramNames);
        if (chosen.isEmpty()) {
            tensors.stream()
                    .max(java.util.Comparator.comparingLong(TensorSummary::parameters))
                    .ifPresent(t -> chosen.add(t.name()));
        }
        for (String name : chosen) {
            TensorSummary t = tensors.stream()
                    .filter(x -> x.name().equals(name))
                    .findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("report: no tensor named '" + name + "'"));
            long[] counts = histogram(spark, t);
            List<String> binLabels = new ArrayList<>();
            List<Double> binValues = new ArrayList<>();
            double width = (t.max() - t.min()) / BINS;
            for (int i = 0; i < BINS; i++) {
                binLabels.add(String.format(Locale.ROOT, "%.4g", t.min() + i * width));
                binValues.add((double) counts[i]);
            }
            h.append("<h2>Values of ")
                    .append(esc(name))
                    .append("</h2>\n")
                    .append(bars("hist-" + name, binLabels, binValues, null, "%.0f"));
        }
        h.append("</body></html>\n");
        Files.writeString(out, h, StandardCharsets.UTF_8);
    }

    /** A horizontal bar chart as inline SVG; each bar has its label and value. */
    static String bars(String id, List<String> labels, List<Double> values, List<String> series, String format) {
        double max = values.stream().mapToDouble(Double::doubleValue).max().orElse(1);
        int row = 18;
        int labelWidth = 260;
        int width = 420;
        StringBuilder s = new StringBuilder();
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"")
                .append(esc(id))
                .append("\" width=\"")
                .append(labelWidth + width + 140)
                .append("\" height=\"")
                .append(row * labels.size() + 4)
                .append("\">");
        String[] palette = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948"};
        List<String> distinct =
                series == null ? List.of() : series.stream().distinct().sorted().toList();
        for (int i = 0; i < labels.size(); i++) {
            double v = values.get(i);
            int w = max > 0 ? (int) Math.round(width * v / max) : 0;
            String color = series == null ? palette[0] : palette[distinct.indexOf(series.get(i)) % palette.length];
            String text = String.format(Locale.ROOT, format, v);
            int y = i * row + 2;
            s.append("<g class=\"bar\" data-label=\"")
                    .append(esc(labels.get(i)))
                    .append("\" data-value=\"")
                    .append(text)
                    .append("\"><text x=\"")
                    .append(labelWidth - 6)
                    .append("\" y=\"")
                    .append(y + 13)
                    .append("\" text-anchor=\"end\" font-size=\"12\">")
                    .append(esc(labels.get(i)))
                    .append("</text><rect x=\"")
                    .append(labelWidth)
                    .append("\" y=\"")
                    .append(y)
                    .append("\" width=\"")
                    .append(w)
                    .append("\" height=\"")
                    .append(row - 4)
                    .append("\" fill=\"")
                    .append(color)
                    .append("\"/><text x=\"")
                    .append(labelWidth + w + 4)
                    .append("\" y=\"")
                    .append(y + 13)
                    .append("\" font-size=\"12\">")
                    .append(text)
                    .append("</text></g>");
        }
        return s.append("</svg>\n").toString();
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
