package io.sparktensors.examples;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.sum;

import io.sparktensors.format.DType;
import io.sparktensors.format.safetensors.HeaderWriter;
import io.sparktensors.format.safetensors.TensorEntry;
import io.sparktensors.spark.compat.ScalaCollections;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongSupplier;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.spark.SparkException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.vectorized.ArrowColumnVector;

/**
 * {@code spark-tensors bench-read}: makes a synthetic checkpoint (BF16 and F32 tensors in shards) and
 * measures, on the same files in one run: raw parallel sequential reads (the limit), Spark's binaryFile
 * source, this source's full scan ({@code sum(length(data))}, through rows and as Arrow batches), Spark's
 * Parquet source on the same bytes, and this source's header-only listing; then the listing of a 100-shard
 * checkpoint. Prints GB/s and ratios. The page cache is warm for every contender unless {@code --cold}.
 */
public final class ReadBenchmark {
    private static final int TENSOR_BYTES = 32 << 20;

    /** Benchmark settings: the flags of {@code bench-read}. */
    public record Settings(
            long size, long shardSize, Path dir, int repeats, boolean cold, Map<String, String> options) {}

    private ReadBenchmark() {}

    public static void run(SparkSession spark, Settings s, PrintStream out) throws Exception {
        Path ckpt = s.dir().resolve("ckpt-" + s.size() + "-" + s.shardSize());
        List<Path> shards = makeCheckpoint(ckpt, s.size(), s.shardSize());
        long bytes = 0;
        for (Path p : shards) {
            bytes += Files.size(p);
        }
        int cores = spark.sparkContext().defaultParallelism();
        if (s.cold() && !dropCaches()) {
            throw new IllegalArgumentException("--cold needs a writable /proc/sys/vm/drop_caches (root)");
        }
        out.printf(
                "checkpoint: %s, %d shards, %.2f GB; Spark %s, %d cores; best of %d runs after %d untimed (%s)%n",
                ckpt,
                shards.size(),
                bytes / 1e9,
                spark.version(),
                cores,
                s.repeats(),
                WARM_UPS,
                s.cold() ? "page cache dropped before each run" : "warm page cache");
        String path = ckpt.toString();
        Measured raw = gbPerSecond(bytes, s, () -> rawRead(shards, cores));
        Measured binary = binaryFileInChildJvm(path, bytes, s.repeats(), cores);
        Measured scan = gbPerSecond(
                bytes,
                s,
                () -> dataBytes(
                        spark.read().format("safetensors").options(s.options()).load(path)));
        Measured columnar = gbPerSecond(
                bytes,
                s,
                () -> columnarScan(spark.read()
                        .format("safetensors")
                        .options(s.options())
                        .load(path)
                        .select("data")));
        Measured parquet = parquetScan(spark, path, s);
        Measured listSeconds = seconds(
                s,
                () -> spark.read()
                        .format("safetensors")
                        .load(path)
                        .select("name", "dtype", "shape")
                        .collectAsList()
                        .size());
        out.println("raw sequential read     " + raw.rate());
        out.println("binaryFile source       " + binary.rate() + binary.versus(raw, "raw"));
        out.println(
                "safetensors full scan   " + scan.rate() + scan.versus(raw, "raw") + scan.versus(binary, "binaryFile"));
        out.println("  columnar, no row copy " + columnar.rate() + columnar.versus(raw, "raw"));
        out.println("Parquet, the same bytes " + parquet.rate() + parquet.versus(raw, "raw")
                + "  (Spark's Parquet source: one binary column of 1 MiB values, uncompressed, through rows)");
        out.println("safetensors listing     " + listSeconds.time() + " for " + shards.size() + " shards");

        Path many = s.dir().resolve("ckpt-100-shards");
        List<Path> hundred = makeManyShards(many, 100, 50);
        Measured hundredSeconds = seconds(
                s,
                () -> spark.read()
                        .format("safetensors")
                        .load(many.toString())
                        .select("name", "dtype", "shape", "file")
                        .collectAsList()
                        .size());
        out.println("listing 100 shards      " + hundredSeconds.time() + " (" + hundred.size() * 50 + " tensors)");
    }

    /**
     * A contender's figure, or why it has none: a contender that fails (binaryFile holds each file as one value,
     * so 500 MB shards can exhaust a small heap) is reported as failed and the others are still measured.
     */
    record Measured(double value, String failure) {
        String rate() {
            return failure != null ? "failed: " + failure : String.format(Locale.ROOT, "%6.2f GB/s", value);
        }

        String time() {
            return failure != null ? "failed: " + failure : String.format(Locale.ROOT, "%6.3f s", value);
        }

        /** "  (0.52x raw)", or nothing when either side has no figure. */
        String versus(Measured other, String name) {
            return failure != null || other.failure != null
                    ? ""
                    : String.format(Locale.ROOT, "  (%.2fx %s)", value / other.value, name);
        }
    }

    private static Measured gbPerSecond(long bytes, Settings s, LongSupplier run) {
        Measured t = seconds(s, run);
        return t.failure() != null ? t : new Measured(bytes / 1e9 / t.value(), null);
    }

    /**
     * Spark's binaryFile source, timed in a JVM of its own with this JVM's heap and flags: it holds each file as
     * one value, so large shards can exhaust the heap, and Spark then ends the whole process (exit 52) from the
     * task thread, which no catch can stop. A child that dies is reported as failed; this run goes on.
     */
    private static Measured binaryFileInChildJvm(String path, long bytes, int repeats, int cores) {
        List<String> command = new ArrayList<>();
        command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(List.of(
                "-cp",
                System.getProperty("java.class.path"),
                ReadBenchmark.class.getName(),
                path,
                Integer.toString(repeats),
                Integer.toString(cores)));
        try {
            Process child = new ProcessBuilder(command)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            String output = new String(child.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            int status = child.waitFor();
            String last = output.lines().reduce((x, y) -> y).orElse("");
            if (status != 0 || !last.startsWith("seconds ")) {
                return new Measured(
                        Double.NaN,
                        "its JVM exited with status " + status
                                + (status == 52
                                        ? " (out of memory: binaryFile holds each file as one value; give more heap with "
                                                + "SPARK_TENSORS_JAVA_OPTS=-Xmx16g)"
                                        : ""));
            }
            return new Measured(bytes / 1e9 / Double.parseDouble(last.substring("seconds ".length())), null);
        } catch (IOException e) {
            return new Measured(Double.NaN, "cannot start its JVM: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Measured(Double.NaN, "interrupted");
        }
    }

    /** The binaryFile contender's own JVM: PATH REPEATS CORES; prints "seconds S" (the best run). */
    public static void main(String[] args) throws IOException {
        try (SparkSession spark = SparkSession.builder()
                .appName("bench-read binaryFile")
                .master("local[" + args[2] + "]")
                .config("spark.ui.enabled", "false")
                .getOrCreate()) {
            Settings s = new Settings(0, 0, Paths.get("."), Integer.parseInt(args[1]), false, Map.of());
            Measured m = seconds(
                    s,
                    () -> spark.read()
                            .format("binaryFile")
                            .load(args[0] + "/*.safetensors")
                            .select(sum(length(col("content"))))
                            .first()
                            .getLong(0));
            if (m.failure() != null) {
                System.exit(1);
            }
            System.out.println("seconds " + m.value());
        }
    }

    /**
     * Untimed runs before the timed ones. A query's time keeps falling for about 15 runs in a fresh JVM while the
     * JIT compiles Spark's planner and scheduler (measured: tensor_stats over 4.29 GB took 5.0, 1.8, 1.3 s in runs
     * 1-3 and 1.05-1.15 s from run 15 on; in run 4 the compiler threads still took 20% of the two cores).
     */
    public static final int WARM_UPS = 15;

    /** Best wall time of the runs after the warm-ups (steady state, as in a long job), or the failure. */
    private static Measured seconds(Settings s, LongSupplier run) {
        try {
            for (int i = 0; i < WARM_UPS; i++) {
                run.getAsLong();
            }
            double best = Double.MAX_VALUE;
            for (int i = 0; i < s.repeats(); i++) {
                if (s.cold()) {
                    dropCaches();
                }
                long t0 = System.nanoTime();
                run.getAsLong();
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
            return new Measured(best, null);
        } catch (OutOfMemoryError | RuntimeException e) { // Spark wraps an executor's OutOfMemoryError
            return new Measured(Double.NaN, failure(e));
        }
    }

    /**
     * Why a contender failed, in a line: the first exception of the chain that says more than Spark's job
     * failure wrapping it (an executor's OutOfMemoryError, an option the source refused), its class and
     * first line.
     */
    static String failure(Throwable e) {
        Throwable shown = e;
        while (shown.getCause() != null
                && shown.getCause() != shown
                && (shown.getMessage() == null || shown instanceof SparkException)) {
            shown = shown.getCause();
        }
        System.gc(); // what the failed contender held is garbage now; the next one starts clean
        String message = shown.getMessage() == null
                ? ""
                : ": " + shown.getMessage().lines().findFirst().orElse("");
        return shown.getClass().getSimpleName() + message;
    }

    /**
     * Spark's Parquet source on the same tensor bytes, through rows as the full scan: a yardstick for what any
     * Spark source costs there. The Parquet copy (the data column of the scan in 1 MiB chunks, uncompressed,
     * as Parquet holds no single value near a shard's size well) is written once beside the checkpoint.
     */
    private static Measured parquetScan(SparkSession spark, String checkpoint, Settings s) {
        Path copy = Paths.get(checkpoint + "-parquet");
        long bytes;
        try {
            if (!Files.exists(copy.resolve("_SUCCESS"))) {
                spark.read()
                        .format("safetensors")
                        .option("maxChunkBytes", "1m")
                        .load(checkpoint)
                        .select("data")
                        .write()
                        .mode("overwrite")
                        .option("compression", "none")
                        .parquet(copy.toString());
            }
            bytes = dataBytes(spark.read().parquet(copy.toString()));
        } catch (RuntimeException e) {
            return new Measured(
                    Double.NaN,
                    "cannot write its Parquet copy: "
                            + e.getMessage().lines().findFirst().orElse(""));
        }
        return gbPerSecond(bytes, s, () -> dataBytes(spark.read().parquet(copy.toString())));
    }

    /** {@code sum(length(data))}: every value of {@code data} through Spark rows. */
    private static long dataBytes(Dataset<Row> df) {
        return df.select(sum(length(col("data")))).first().getLong(0);
    }

    /**
     * The scan's Arrow batches consumed as they are: every data byte read once (a checksum of the data buffer's
     * 8-byte words), as a columnar consumer would, without Spark's conversion of each binary value into a row.
     */
    private static long columnarScan(Dataset<Row> df) {
        SparkPlan scan = ScalaCollections.asJava(
                        df.queryExecution().executedPlan().collectLeaves())
                .get(0);
        long[] lengthAndSum = scan.executeColumnar()
                .toJavaRDD()
                .map(batch -> {
                    if (batch.numRows() == 0) {
                        return new long[2];
                    }
                    var data = (VarBinaryVector) ((ArrowColumnVector) batch.column(0)).getValueVector();
                    int length = data.getOffsetBuffer().getInt((long) batch.numRows() * Integer.BYTES);
                    java.nio.LongBuffer words = data.getDataBuffer()
                            .nioBuffer(0, length)
                            .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                            .asLongBuffer();
                    long sum = 0;
                    for (int i = 0; i < words.limit(); i++) {
                        sum += words.get(i);
                    }
                    return new long[] {length, sum};
                })
                .reduce((a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
        return lengthAndSum[0] + (lengthAndSum[1] == Long.MIN_VALUE ? 1 : 0);
    }

    private static boolean dropCaches() {
        try {
            Files.writeString(Paths.get("/proc/sys/vm/drop_caches"), "1");
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Reads the files once, front to back (to warm the page cache). */
    static long rawReadAll(List<Path> files) {
        return rawRead(files, 1);
    }

    /** Reads every file front to back with one thread per core: what the disk and page cache allow. */
    private static long rawRead(List<Path> files, int threads) {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Long>> parts = new ArrayList<>();
            for (Path p : files) {
                parts.add(pool.submit(() -> {
                    long n = 0;
                    ByteBuffer buf = ByteBuffer.allocateDirect(8 << 20);
                    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                        int r;
                        while ((r = ch.read(buf)) >= 0) {
                            n += r;
                            buf.clear();
                        }
                    }
                    return n;
                }));
            }
            long total = 0;
            for (Future<Long> f : parts) {
                total += f.get();
            }
            return total;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            pool.shutdownNow();
        }
    }

    /** Shards of BF16 and F32 tensors of 32 MiB each, written once and reused by later runs. */
    static List<Path> makeCheckpoint(Path dir, long size, long shardSize) throws IOException {
        int perShard = (int) Math.max(1, shardSize / TENSOR_BYTES);
        int tensors = (int) Math.max(1, size / TENSOR_BYTES);
        int shardCount = (tensors + perShard - 1) / perShard;
        byte[] block = new byte[TENSOR_BYTES];
        new Random(42).nextBytes(block);
        List<Path> shards = new ArrayList<>();
        int t = 0;
        for (int s = 0; s < shardCount; s++) {
            Path file = dir.resolve(String.format("model-%05d-of-%05d.safetensors", s + 1, shardCount));
            shards.add(file);
            List<TensorEntry> entries = new ArrayList<>();
            long offset = 0;
            for (int i = 0; i < perShard && t < tensors; i++, t++) {
                boolean bf16 = t % 2 == 0;
                long[] shape =
                        bf16 ? new long[] {4096, TENSOR_BYTES / 2 / 4096} : new long[] {4096, TENSOR_BYTES / 4 / 4096};
                entries.add(new TensorEntry(
                        String.format("model.layers.%d.w%d", t / 4, t % 4),
                        bf16 ? DType.BF16 : DType.F32,
                        shape,
                        offset,
                        offset + TENSOR_BYTES));
                offset += TENSOR_BYTES;
            }
            writeIfAbsent(file, entries, block);
        }
        return shards;
    }

    static List<Path> makeManyShards(Path dir, int shardCount, int tensorsPerShard) throws IOException {
        byte[] block = new byte[4096];
        List<Path> shards = new ArrayList<>();
        for (int s = 0; s < shardCount; s++) {
            Path file = dir.resolve(String.format("model-%05d-of-%05d.safetensors", s + 1, shardCount));
            List<TensorEntry> entries = new ArrayList<>();
            for (int i = 0; i < tensorsPerShard; i++) {
                entries.add(new TensorEntry(
                        String.format("model.layers.%d.t%d", s, i),
                        DType.BF16,
                        new long[] {2048},
                        (long) i * 4096,
                        (long) (i + 1) * 4096));
            }
            writeIfAbsent(file, entries, block);
            shards.add(file);
        }
        return shards;
    }

    private static void writeIfAbsent(Path file, List<TensorEntry> entries, byte[] block) throws IOException {
        byte[] header = HeaderWriter.write(java.util.Map.of("format", "pt"), entries);
        long expected = header.length + entries.get(entries.size() - 1).end();
        if (Files.exists(file) && Files.size(file) == expected) {
            return;
        }
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            out.write(header);
            for (TensorEntry e : entries) {
                for (long left = e.byteLength(); left > 0; left -= Math.min(left, block.length)) {
                    out.write(block, 0, (int) Math.min(left, block.length));
                }
            }
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
