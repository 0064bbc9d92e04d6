package io.sparktensors.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparktensors.format.DType;
import io.sparktensors.spark.functions.TensorHashes;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code spark-tensors inspect PATH [--json] [--hash] [--format F] [--option KEY=VALUE]...}: every tensor with its dtype, shape, bytes
 * and file, totals by dtype, and with {@code --hash} the SHA-256 of each tensor's raw bytes (computed by
 * the executors).
 */
public final class Inspect {
    /** One tensor as inspect reports it. */
    public record TensorInfo(
            String name, String dtype, long[] shape, long nbytes, long elements, String file, String sha256) {}

    /** Totals of one dtype. */
    public record DtypeTotal(long tensors, long elements, long bytes) {}

    private Inspect() {}

    /** The tensors of {@code path}, sorted by name. */
    public static List<TensorInfo> tensors(
            SparkSession spark, String format, String path, boolean hash, Map<String, String> options) {
        Dataset<Row> df = spark.read().format(format).options(options).load(path);
        Map<String, String> hashes = new TreeMap<>();
        if (hash) {
            for (Row r : TensorHashes.sha256(df).collectAsList()) {
                hashes.put(r.getString(0), r.getString(1));
            }
        }
        List<Row> rows = df.where("chunk = 0")
                .select("name", "dtype", "shape", "file")
                .orderBy("name")
                .collectAsList();
        return rows.stream()
                .map(r -> {
                    long[] shape = r.<Long>getList(2).stream()
                            .mapToLong(Long::longValue)
                            .toArray();
                    long elements = 1;
                    for (long d : shape) {
                        elements = Math.multiplyExact(elements, d);
                    }
                    DType dtype = DType.fromCode(r.getString(1));
                    return new TensorInfo(
                            r.getString(0),
                            r.getString(1),
                            shape,
                            dtype.byteSize(elements),
                            elements,
                            r.getString(3),
                            hashes.get(r.getString(0)));
                })
                .toList();
    }

    public static Map<String, DtypeTotal> totals(List<TensorInfo> tensors) {
        Map<String, DtypeTotal> totals = new TreeMap<>();
        for (TensorInfo t : tensors) {
            totals.merge(
                    t.dtype(),
                    new DtypeTotal(1, t.elements(), t.nbytes()),
                    (a, b) -> new DtypeTotal(
                            a.tensors() + b.tensors(), a.elements() + b.elements(), a.bytes() + b.bytes()));
        }
        return totals;
    }

    public static void printText(List<TensorInfo> tensors, PrintStream out) {
        int width = Math.min(
                60, tensors.stream().mapToInt(t -> t.name().length()).max().orElse(4));
        boolean hashes = tensors.stream().anyMatch(t -> t.sha256() != null);
        String row = "%-" + width + "s  %-11s  %-20s  %14s  %s%n";
        out.printf(row, "NAME", "DTYPE", "SHAPE", "BYTES", hashes ? "FILE  SHA256" : "FILE");
        for (TensorInfo t : tensors) {
            String file = t.file().substring(t.file().lastIndexOf('/') + 1);
            out.printf(
                    row,
                    t.name(),
                    t.dtype(),
                    java.util.Arrays.toString(t.shape()),
                    String.format("%,d", t.nbytes()),
                    hashes ? file + "  " + t.sha256() : file);
        }
        out.println();
        out.printf("%-11s  %8s  %16s  %16s%n", "DTYPE", "TENSORS", "PARAMETERS", "BYTES");
        long n = 0;
        long elements = 0;
        long bytes = 0;
        for (var e : totals(tensors).entrySet()) {
            DtypeTotal d = e.getValue();
            out.printf("%-11s  %8d  %,16d  %,16d%n", e.getKey(), d.tensors(), d.elements(), d.bytes());
            n += d.tensors();
            elements += d.elements();
            bytes += d.bytes();
        }
        long files = tensors.stream().map(TensorInfo::file).distinct().count();
        out.printf("%-11s  %8d  %,16d  %,16d  in %d files%n", "total", n, elements, bytes, files);
    }

    public static String json(List<TensorInfo> tensors) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        ObjectNode byName = root.putObject("tensors");
        for (TensorInfo t : tensors) {
            ObjectNode node = byName.putObject(t.name());
            node.put("dtype", t.dtype());
            ArrayNode shape = node.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            node.put("nbytes", t.nbytes());
            node.put("file", t.file());
            if (t.sha256() != null) {
                node.put("sha256", t.sha256());
            }
        }
        ObjectNode totals = root.putObject("totals");
        for (var e : totals(tensors).entrySet()) {
            ObjectNode d = totals.putObject(e.getKey());
            d.put("tensors", e.getValue().tensors());
            d.put("parameters", e.getValue().elements());
            d.put("nbytes", e.getValue().bytes());
        }
        root.put("tensor_count", tensors.size());
        root.put("total_bytes", tensors.stream().mapToLong(TensorInfo::nbytes).sum());
        root.put("file_count", tensors.stream().map(TensorInfo::file).distinct().count());
        return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    }
}
