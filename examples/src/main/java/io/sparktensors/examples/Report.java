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
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code spark-tensors report PATH --out report.html [--histogram NAME]...}: one self-contained page (XHTML
 * with inline SVG, no script, no network) with parameter counts by layer and dtype, weight norms across
 * depth, NaN and Inf findings, and value histograms of chosen tensors (by default the largest). Every bar
 * carries its number in {@code data-value} and in its label, so the page can be checked by a program.
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
