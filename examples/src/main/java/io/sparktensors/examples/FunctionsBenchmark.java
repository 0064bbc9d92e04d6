package io.sparktensors.examples;

import io.sparktensors.analysis.TensorStats;
import io.sparktensors.format.DType;
import io.sparktensors.format.safetensors.HeaderWriter;
import io.sparktensors.spark.functions.TensorFunctions;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.SparkSession;

/**
 * {@code spark-tensors bench-functions}: {@code tensor_stats} throughput per core on
 * BF16 and F32, first the decoding loop alone on one thread, then end to end through Spark SQL on a
 * checkpoint (a full scan plus the function, on every core).
 */
public final class FunctionsBenchmark {
    /** Shards of the SQL checkpoint, each the kernel's values. */
    private static final int SQL_SHARDS = 4;

    private FunctionsBenchmark() {}

    /** Runs it; {@code options} are read options of the SQL scan (maxChunkBytes=16m unless given). */
    public static void run(SparkSession spark, int mb, Path dir, Map<String, String> options, PrintStream out)
            throws Exception {
        byte[] data = new byte[mb << 20];
        new Random(1).nextBytes(data);
        for (int i = 1; i < data.length; i += 2) {
            data[i] = (byte) ((data[i] & 0x83) | 0x38); // keep BF16/F32 exponents moderate: finite values
        }
        for (DType dtype : List.of(DType.BF16, DType.F32)) {
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 5; i++) {
                long t0 = System.nanoTime();
                TensorStats s = TensorStats.of(data, dtype);
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                if (s.count() == 0) {
                    throw new AssertionError();
                }
            }
            out.printf(
                    "tensor_stats kernel, %-4s one thread: %6.2f GB/s (%s kernel)%n",
                    dtype, data.length / 1e9 / best, TensorStats.kernel());
        }
        TensorFunctions.register(spark);
        int cores = spark.sparkContext().defaultParallelism();
        for (DType dtype : List.of(DType.BF16, DType.F32)) {
            // SQL_SHARDS shards of these values: a checkpoint large enough that a query's fixed cost in Spark
            // (planning, scheduling: about 0.1 s here) does not hide the per-byte rate.
            Path folder = dir.resolve(dtype.code());
            long rows = (long) data.length / (dtype.bits() / 8) / 4096;
            byte[] header = HeaderWriter.write(
                    Map.of(), HeaderWriter.layout(List.of(new HeaderWriter.Spec("w", dtype, new long[] {rows, 4096}))));
            Files.createDirectories(folder);
            for (int shard = 0; shard < SQL_SHARDS; shard++) {
                Path file = folder.resolve("part-" + shard + ".safetensors");
                if (!file.toFile().exists() || file.toFile().length() != header.length + (long) data.length) {
                    try (var o = Files.newOutputStream(file)) {
                        o.write(header);
                        o.write(data);
                    }
                }
            }
            var df = spark.read()
                    .format("safetensors")
                    .option("maxChunkBytes", "16m")
                    .options(options)
                    .load(folder.toString())
                    .selectExpr("tensor_stats(data, dtype).count AS n");
            for (int i = 0; i < ReadBenchmark.WARM_UPS; i++) {
                df.agg(org.apache.spark.sql.functions.sum("n")).first(); // untimed: the JIT compiles first
            }
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 3; i++) {
                long t0 = System.nanoTime();
                df.agg(org.apache.spark.sql.functions.sum("n")).first();
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
            long bytes = (long) data.length * SQL_SHARDS;
            out.printf(
                    "tensor_stats through Spark SQL, %-4s %d cores: %6.2f GB/s (%.2f GB/s per core) over %.2f GB%n",
                    dtype, cores, bytes / 1e9 / best, bytes / 1e9 / best / cores, bytes / 1e9);
        }
    }
}
