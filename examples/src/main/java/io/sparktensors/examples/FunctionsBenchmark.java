package io.sparktensors.examples;

import io.sparktensors.analysis.TensorStats;
import io.sparktensors.format.DType;
import io.sparktensors.format.safetensors.HeaderWriter;
import io.sparktensors.spark.functions.TensorFunctions;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * {@code spark-tensors bench-functions}: {@code tensor_stats} throughput per core on BF16 and F32: the
 * decoding loop alone (on one thread, then on every core at once), and end to end through Spark SQL on a
 * checkpoint (a full scan plus the function, on every core). The three are timed in alternating rounds, so a
 * ratio compares measurements taken within seconds of each other: on a shared machine the speed of a core
 * drifts by a fifth from one minute to the next.
 */
public final class FunctionsBenchmark {
    /** Shards of the SQL checkpoint, each the kernel's values. */
    private static final int SQL_SHARDS = 4;

    /** Timed rounds, each one run of the kernel alone, of the kernel on every core, and of the query. */
    static final int ROUNDS = 5;

    /**
     * Untimed runs of each query by default. In a fresh JVM a query keeps getting faster for about 60 runs
     * while the JIT compiles Spark's analyzer, planner and scheduler (tensor_stats over 4.29 GB on 2 cores,
     * ten runs each: 1.86, 1.17, 1.12, 1.13, 1.10, 1.13, then 1.07-1.08 s; the time before the first task
     * 351, 75, 69, 57, 55, 60, then 48-54 ms); the kernel, one loop, is compiled in its first run.
     */
    public static final int WARM_UPS = 60;

    private FunctionsBenchmark() {}

    /**
     * Runs it; {@code options} are read options of the SQL scan (maxChunkBytes=16m unless given), {@code
     * warmUps} the untimed runs of each query.
     */
    public static void run(
            SparkSession spark, int mb, Path dir, Map<String, String> options, int warmUps, PrintStream out)
            throws Exception {
        if (warmUps < 0) {
            throw new IllegalArgumentException("warm-ups must be 0 or more, got " + warmUps);
        }
        byte[] data = new byte[mb << 20];
        new Random(1).nextBytes(data);
        for (int i = 1; i < data.length; i += 2) {
            data[i] = (byte) ((data[i] & 0x83) | 0x38); // keep BF16/F32 exponents moderate: finite values
        }
        TensorFunctions.register(spark);
        int cores = spark.sparkContext().defaultParallelism();
        ExecutorService pool = Executors.newFixedThreadPool(cores);
        try {
            for (DType dtype : List.of(DType.BF16, DType.F32)) {
                // The query is the contender that can fail (disk space for its shards, Spark, the heap): it is
                // then reported as failed, and the kernel still measured.
                String failure = null;
                Dataset<Row> df = null;
                try {
                    Path folder = writeShards(dir, data, dtype);
                    df = spark.read()
                            .format("safetensors")
                            .option("maxChunkBytes", "16m")
                            .options(options)
                            .load(folder.toString())
                            .selectExpr("tensor_stats(data, dtype).count AS n");
                    for (int i = 0; i < warmUps; i++) { // untimed: the JIT compiles first
                        query(df);
                    }
                } catch (IOException | RuntimeException | OutOfMemoryError e) {
                    failure = ReadBenchmark.failure(e);
                }
                for (int i = 0; i < 3; i++) {
                    kernel(data, dtype);
                    kernelOnEveryCore(pool, data, dtype, cores);
                }
                long sqlBytes = (long) data.length * SQL_SHARDS;
                double[] alone = new double[ROUNDS];
                double[] busy = new double[ROUNDS];
                double[] sql = new double[ROUNDS];
                double[] ratioAlone = new double[ROUNDS];
                double[] ratioBusy = new double[ROUNDS];
                for (int r = 0; r < ROUNDS; r++) {
                    alone[r] = data.length / 1e9 / kernel(data, dtype);
                    busy[r] = data.length / 1e9 / kernelOnEveryCore(pool, data, dtype, cores) / cores;
                    if (failure == null) {
                        try {
                            sql[r] = sqlBytes / 1e9 / query(df) / cores;
                        } catch (RuntimeException | OutOfMemoryError e) {
                            failure = ReadBenchmark.failure(e);
                        }
                    }
                    ratioAlone[r] = sql[r] / alone[r];
                    ratioBusy[r] = sql[r] / busy[r];
                }
                out.printf(
                        "tensor_stats kernel, %-4s one thread: %6.2f GB/s (%s kernel)%n",
                        dtype, median(alone), TensorStats.kernel());
                out.printf(
                        "tensor_stats kernel, %-4s %d threads at once: %6.2f GB/s per thread%n",
                        dtype, cores, median(busy));
                if (failure != null) {
                    out.printf("tensor_stats through Spark SQL, %-4s %d cores: failed: %s%n", dtype, cores, failure);
                    continue;
                }
                out.printf(
                        "tensor_stats through Spark SQL, %-4s %d cores: %6.2f GB/s (%.2f GB/s per core) over %.2f GB%n",
                        dtype, cores, median(sql) * cores, median(sql), sqlBytes / 1e9);
                out.printf(
                        "  SQL per core / kernel, %-4s %.2fx the kernel alone (%.2f-%.2f), %.2fx the kernel on every"
                                + " core (%.2f-%.2f): medians of %d alternating rounds%n",
                        dtype,
                        median(ratioAlone),
                        min(ratioAlone),
                        max(ratioAlone),
                        median(ratioBusy),
                        min(ratioBusy),
                        max(ratioBusy),
                        ROUNDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * {@link #SQL_SHARDS} shards of these values as one tensor each: a checkpoint large enough that a query's
     * fixed cost in Spark (planning, scheduling: about 0.1 s here) does not hide the per-byte rate.
     */
    private static Path writeShards(Path dir, byte[] data, DType dtype) throws IOException {
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
        return folder;
    }

    /** Seconds the kernel takes over {@code data} on this thread. */
    private static double kernel(byte[] data, DType dtype) {
        long t0 = System.nanoTime();
        TensorStats s = TensorStats.of(data, dtype);
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (s.count() == 0) {
            throw new AssertionError("no values summarised");
        }
        return seconds;
    }

    /** Seconds until {@code cores} threads have each summarised their own slice of {@code data}. */
    private static double kernelOnEveryCore(ExecutorService pool, byte[] data, DType dtype, int cores)
            throws Exception {
        int slice = data.length / cores / 4 * 4;
        List<Future<TensorStats>> parts = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int c = 0; c < cores; c++) {
            ByteBuffer part = ByteBuffer.wrap(data, c * slice, slice).slice();
            parts.add(pool.submit(() -> TensorStats.of(part, dtype)));
        }
        for (Future<TensorStats> p : parts) {
            if (p.get().count() == 0) {
                throw new AssertionError("no values summarised");
            }
        }
        return (System.nanoTime() - t0) / 1e9 * data.length / ((double) slice * cores); // as for all the bytes
    }

    /** Seconds one run of the query takes, planning included. */
    private static double query(Dataset<Row> df) {
        long t0 = System.nanoTime();
        df.agg(functions.sum("n")).first();
        return (System.nanoTime() - t0) / 1e9;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static double min(double[] values) {
        return Arrays.stream(values).min().orElse(Double.NaN);
    }

    private static double max(double[] values) {
        return Arrays.stream(values).max().orElse(Double.NaN);
    }
}
