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
 * checkpoint (a full scan plus the function, on every core) of two sizes. All are timed in alternating
 * rounds, so a ratio compares measurements taken within seconds of each other: on a shared machine the speed
 * of a core drifts by a fifth from one minute to the next. The two sizes separate a query's fixed cost
 * (planning, scheduling) from its rate per byte.
 */
public final class FunctionsBenchmark {
    /** Files of the smaller SQL checkpoint, each one tensor of the kernel's values. */
    private static final int SQL_FILES = 4;

    /** Timed rounds, each one run of the kernel alone, of the kernel on every core, and of both queries. */
    static final int ROUNDS = 5;

    /**
     * Untimed queries by default, the two sizes in turn. In a fresh JVM a query keeps getting faster for about
     * 60 runs while the JIT compiles Spark's analyzer, planner and scheduler (tensor_stats over 4.29 GB on 2
     * cores, ten runs each: 1.86, 1.17, 1.12, 1.13, 1.10, 1.13, then 1.07-1.08 s; the time before the first
     * task 351, 75, 69, 57, 55, 60, then 48-54 ms); the kernel, one loop, is compiled in its first run.
     */
    public static final int WARM_UPS = 60;

    private FunctionsBenchmark() {}

    /**
     * Runs it; {@code options} are read options of the SQL scan (maxChunkBytes=16m unless given), {@code
     * warmUps} the untimed queries.
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
                // The queries are the contender that can fail (disk space for the files, Spark, the heap): that
                // is then reported, and the kernel still measured.
                String failure = null;
                Dataset<Row> small = null;
                Dataset<Row> large = null;
                long smallBytes = 0;
                try {
                    Checkpoints written = writeCheckpoints(dir, data, dtype);
                    small = statsQuery(spark, written.small(), options);
                    large = statsQuery(spark, written.large(), options);
                    smallBytes = written.smallBytes();
                    for (int i = 0; i < warmUps; i++) { // untimed: the JIT compiles first
                        query(i % 2 == 0 ? small : large);
                    }
                } catch (IOException | RuntimeException | OutOfMemoryError e) {
                    failure = ReadBenchmark.failure(e);
                }
                for (int i = 0; i < 3; i++) {
                    kernel(data, dtype);
                    kernelOnEveryCore(pool, data, dtype, cores);
                }
                long largeBytes = 2 * smallBytes;
                double[] alone = new double[ROUNDS];
                double[] busy = new double[ROUNDS];
                double[] smallSeconds = new double[ROUNDS];
                double[] largeSeconds = new double[ROUNDS];
                for (int r = 0; r < ROUNDS; r++) {
                    alone[r] = data.length / 1e9 / kernel(data, dtype);
                    busy[r] = data.length / 1e9 / kernelOnEveryCore(pool, data, dtype, cores) / cores;
                    if (failure == null) {
                        try {
                            smallSeconds[r] = query(small);
                            largeSeconds[r] = query(large);
                        } catch (RuntimeException | OutOfMemoryError e) {
                            failure = ReadBenchmark.failure(e);
                        }
                    }
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
                double[] largePerCore = perCore(largeBytes, largeSeconds, cores);
                double[] smallPerCore = perCore(smallBytes, smallSeconds, cores);
                out.printf(
                        "tensor_stats through Spark SQL, %-4s %d cores: %6.2f GB/s (%.2f GB/s per core) over %.2f GB%n",
                        dtype, cores, median(largePerCore) * cores, median(largePerCore), largeBytes / 1e9);
                out.printf(
                        "  SQL per core / kernel, %-4s %s, %s: medians of %d alternating rounds%n",
                        dtype,
                        ratio(largePerCore, alone, "the kernel alone"),
                        ratio(largePerCore, busy, "the kernel on every core"),
                        ROUNDS);
                // t = fixed + bytes / rate at both sizes, the larger twice the smaller: fixed = 2 t(small) - t(large).
                double fixed = 2 * median(smallSeconds) - median(largeSeconds);
                double rate = smallBytes / 1e9 / (median(largeSeconds) - median(smallSeconds)) / cores;
                out.printf(
                        "  over %.2f GB: %.2f GB/s per core, %s; %s%n",
                        smallBytes / 1e9,
                        median(smallPerCore),
                        ratio(smallPerCore, alone, "the kernel alone"),
                        rate > 0 && fixed >= 0
                                ? String.format(
                                        "so each query costs %.3f s, then runs at %.2f GB/s per core (%.2fx the kernel"
                                                + " alone)",
                                        fixed, rate, rate / median(alone))
                                : "the two sizes do not separate a fixed cost from a rate (times too close)");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static Dataset<Row> statsQuery(SparkSession spark, Path folder, Map<String, String> options) {
        return spark.read()
                .format("safetensors")
                .option("maxChunkBytes", "16m")
                .options(options)
                .load(folder.toString())
                .selectExpr("tensor_stats(data, dtype).count AS n");
    }

    /**
     * The SQL checkpoints of these values: {@link #SQL_FILES} files of one tensor each, written afresh in large
     * writes, and a folder with twice as many shards, each file listed twice (hard links, else copies). Written
     * so, the page cache holds them in large pages, as a checkpoint read from disk is held (ext4 from Linux
     * 6.16, XFS): mapping them costs 0.013-0.02 s per GB, where 4 KiB pages (files written in small pieces) cost
     * 0.07.
     */
    private static Checkpoints writeCheckpoints(Path dir, byte[] data, DType dtype) throws IOException {
        Path folder = dir.resolve(dtype.code());
        Path twice = dir.resolve(dtype.code() + "-x2");
        long rows = (long) data.length / (dtype.bits() / 8) / 4096;
        byte[] header = HeaderWriter.write(
                Map.of(), HeaderWriter.layout(List.of(new HeaderWriter.Spec("w", dtype, new long[] {rows, 4096}))));
        Files.createDirectories(folder);
        Files.createDirectories(twice);
        for (int i = 0; i < SQL_FILES; i++) {
            Path file = folder.resolve("part-" + i + ".safetensors");
            try (var o = Files.newOutputStream(file)) {
                o.write(header);
                o.write(data);
            }
            for (int copy = 0; copy < 2; copy++) {
                Path shard = twice.resolve("part-" + (i + copy * SQL_FILES) + ".safetensors");
                Files.deleteIfExists(shard);
                try {
                    Files.createLink(shard, file);
                } catch (UnsupportedOperationException | IOException e) {
                    Files.copy(file, shard);
                }
            }
        }
        return new Checkpoints(folder, twice, SQL_FILES * (header.length + (long) data.length));
    }

    /** The two SQL checkpoints' folders, and the bytes of the smaller (the larger has twice as many). */
    private record Checkpoints(Path small, Path large, long smallBytes) {}

    private static double[] perCore(long bytes, double[] seconds, int cores) {
        return Arrays.stream(seconds).map(s -> bytes / 1e9 / s / cores).toArray();
    }

    /** The median of each round's ratio, and their range: "0.85x the kernel alone (0.80-0.88)". */
    private static String ratio(double[] sql, double[] kernel, String what) {
        double[] ratios = new double[sql.length];
        for (int r = 0; r < sql.length; r++) {
            ratios[r] = sql[r] / kernel[r];
        }
        return String.format("%.2fx %s (%.2f-%.2f)", median(ratios), what, min(ratios), max(ratios));
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
