package io.sparktensors.examples;

import io.sparktensors.spark.reshard.CheckpointReshard;
import io.sparktensors.spark.reshard.ReshardOptions;
import io.sparktensors.spark.source.TensorsDataSource;
import java.io.PrintStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/**
 * {@code spark-tensors convert SRC DST [--format F] [--verify] [re-shard options]}: any supported checkpoint
 * to a Hugging Face safetensors checkpoint, with the re-shard job (tensor bytes stream from the source files
 * to the output shards; no Spark rows). The format is told from the file names unless given. With
 * {@code --verify} the output is read back and every tensor that kept its dtype is compared, by SHA-256 of
 * its bytes, with its source.
 */
public final class Convert {
    private Convert() {}

    /** Converts; returns the exit status: 0, or 1 when verification found a difference. */
    public static int run(
            SparkSession spark,
            String source,
            String target,
            String format,
            boolean verify,
            ReshardOptions options,
            PrintStream out) {
        Map<String, String> readOptions = new HashMap<>(options.readOptions());
        if (format != null) {
            readOptions.put("format", format);
        }
        ReshardOptions withFormat = options.withReadOptions(readOptions);
        long t0 = System.nanoTime();
        CheckpointReshard.Result r = CheckpointReshard.run(spark, source, target, withFormat);
        double seconds = (System.nanoTime() - t0) / 1e9;
        out.printf(
                "converted %d tensors (%,d bytes) into %d files in %s in %.1f s (%.0f MB/s)%n",
                r.tensors(), r.bytes(), r.files().size(), r.target(), seconds, r.bytes() / seconds / 1e6);
        if (!verify) {
            return 0;
        }
        List<Inspect.TensorInfo> before =
                Inspect.tensors(spark, TensorsDataSource.SHORT_NAME, source, true, readOptions);
        Map<String, Inspect.TensorInfo> after = new HashMap<>();
        for (Inspect.TensorInfo t : Inspect.tensors(spark, "safetensors", r.target(), true, Map.of())) {
            after.put(t.name(), t);
        }
        int compared = 0;
        int converted = 0;
        int differing = 0;
        for (Inspect.TensorInfo t : before) {
            String name = withFormat.outputName(t.name());
            if (name == null) {
                continue;
            }
            Inspect.TensorInfo o = after.get(name);
            if (o == null) {
                out.println("MISSING  " + name);
                differing++;
            } else if (!o.dtype().equals(t.dtype())) {
                converted++;
            } else if (!o.sha256().equals(t.sha256()) || !java.util.Arrays.equals(o.shape(), t.shape())) {
                out.println("DIFFERS  " + name);
                differing++;
            } else {
                compared++;
            }
        }
        out.printf(
                "verify: %d tensors identical, %d converted to another dtype (not compared), %d differ%n",
                compared, converted, differing);
        return differing == 0 ? 0 : 1;
    }
}
