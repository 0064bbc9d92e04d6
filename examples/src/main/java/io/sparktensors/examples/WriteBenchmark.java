package io.sparktensors.examples;

import io.sparktensors.spark.reshard.CheckpointReshard;
import io.sparktensors.spark.reshard.ReshardOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;

/**
 * {@code spark-tensors bench-write}: on one synthetic checkpoint (or an existing one of any format, with
 * {@code --source}: then the re-shard job is the conversion to safetensors), in one run, times {@code cp -r}
 * (the limit), the re-shard job and the DataFrame writer after a full read, each to a new shard size (best of
 * three), and reports the peak heap the re-shard job used (run it with {@code SPARK_TENSORS_JAVA_OPTS=-Xmx1g}
 * to prove the bound).
 */
public final class WriteBenchmark {

    /** Benchmark settings: the flags of {@code bench-write}. */
    public record Settings(
            long size, long shardSize, Path dir, long outputShardSize, boolean skipWriter, int repeats, Path source) {}

    private WriteBenchmark() {}

    public static void run(SparkSession spark, Settings s, PrintStream out) throws Exception {
        Path src = s.source() != null ? s.source() : s.dir().resolve("ckpt-" + s.size() + "-" + s.shardSize());
        List<Path> shards =
                s.source() != null ? filesOf(src) : ReadBenchmark.makeCheckpoint(src, s.size(), s.shardSize());
        long bytes = 0;
        for (Path p : shards) {
            bytes += Files.size(p);
        }
        out.printf(
                "checkpoint: %s, %d shards, %.2f GB -> shards of at most %,d bytes; heap limit %d MB%n",
                src,
                shards.size(),
                bytes / 1e9,
                s.outputShardSize(),
                Runtime.getRuntime().maxMemory() >> 20);
        spark.range(4).count(); // and start Spark's executors, as on a running cluster

        Path copy = s.dir().resolve("cp");
        double cp = best(s.repeats(), shards, copy, () -> {
            Process p = new ProcessBuilder("cp", "-r", src.toString(), copy.toString())
                    .inheritIO()
                    .start();
            if (p.waitFor() != 0) {
                throw new IOException("cp failed");
            }
        });
        Path resharded = s.dir().resolve("reshard");
        HeapPeaks.reset();
        double reshard = best(
                s.repeats(),
                shards,
                resharded,
                () -> CheckpointReshard.run(
                        spark,
                        src.toString(),
                        resharded.toString(),
                        ReshardOptions.defaults().withMaxShardSize(s.outputShardSize())));
        long reshardPeak = HeapPeaks.bytes();
        out.printf("cp -r                    %6.2f s  %6.2f GB/s%n", cp, bytes / 1e9 / cp);
        out.printf(
                "re-shard job             %6.2f s  %6.2f GB/s  (%.2fx the time of cp; peak heap %d MB)%n",
                reshard, bytes / 1e9 / reshard, reshard / cp, reshardPeak >> 20);
        if (!s.skipWriter()) {
            Path written = s.dir().resolve("written");
            HeapPeaks.reset();
            double writer = best(
                    s.repeats(),
                    shards,
                    written,
                    () -> spark.read()
                            .format("tensors")
                            .load(src.toString())
                            .write()
                            .format("safetensors")
                            .option("maxShardSize", Long.toString(s.outputShardSize()))
                            .save(written.toString()));
            out.printf(
                    "read + DataFrame writer  %6.2f s  %6.2f GB/s  (%.2fx the throughput of cp; peak heap %d MB)%n",
                    writer, bytes / 1e9 / writer, cp / writer, HeapPeaks.bytes() >> 20);
            // A filter keeps the writer off its fast path: every tensor goes through Spark rows and is staged.
            HeapPeaks.reset();
            double general = best(
                    s.repeats(),
                    shards,
                    written,
                    () -> spark.read()
                            .format("tensors")
                            .load(src.toString())
                            .where("length(data) >= 0")
                            .write()
                            .format("safetensors")
                            .option("maxShardSize", Long.toString(s.outputShardSize()))
                            .save(written.toString()));
            out.printf(
                    "  ... through Spark rows %6.2f s  %6.2f GB/s  (%.2fx the throughput of cp; peak heap %d MB)%n",
                    general, bytes / 1e9 / general, cp / general, HeapPeaks.bytes() >> 20);
        }
    }

    /** The files of an existing checkpoint to convert: the file itself, or every file in the folder. */
    private static List<Path> filesOf(Path source) throws IOException {
        if (!Files.isDirectory(source)) {
            return List.of(source);
        }
        try (Stream<Path> files = Files.list(source)) {
            return files.filter(Files::isRegularFile).sorted().toList();
        }
    }

    private interface Step {
        void run() throws Exception;
    }

    /**
     * The best of {@code repeats} timed runs after one untimed run (so the JIT has compiled the contender's code,
     * as on a running cluster: on two cores its compiler threads otherwise take a core from the tasks), each
     * into a fresh {@code output} folder and each from a warm page cache: the source is read once before every
     * run (the kernel may drop cached pages between runs, and a contender should not pay for its predecessors'
     * writes pushing the source out).
     */
    private static double best(int repeats, List<Path> source, Path output, Step step) throws Exception {
        fresh(output);
        step.run();
        double best = Double.MAX_VALUE;
        for (int i = 0; i < repeats; i++) {
            fresh(output);
            ReadBenchmark.rawReadAll(source);
            best = Math.min(best, time(step));
        }
        return best;
    }

    /** Times a step that starts with no dirty pages left by the previous one (each pays for its own writeback). */
    private static double time(Step step) throws Exception {
        new ProcessBuilder("sync").inheritIO().start().waitFor();
        long t0 = System.nanoTime();
        step.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    private static Path fresh(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(dir.getParent());
        return dir;
    }
}
