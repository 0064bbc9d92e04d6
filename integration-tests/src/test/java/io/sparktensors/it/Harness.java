package io.sparktensors.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.checkpoint.ByteSizes;
import io.sparktensors.examples.SparkTensorsCli;
import io.sparktensors.spark.reshard.CheckpointCommitter;
import io.sparktensors.spark.reshard.CheckpointReshard;
import io.sparktensors.spark.reshard.ReshardOptions;
import io.sparktensors.testing.SparkSessions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/** What the end-to-end suites share: the command line, folders on any file system, separate executors. */
final class Harness {
    private Harness() {}

    /** Runs {@code spark-tensors ARGS} in this JVM; returns what it printed, failing on a non-zero status. */
    static String cli(String... args) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = SparkTensorsCli.run(
                args,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The writers left no staging in {@code folder}; else the failure lists what is there. */
    static void assertNoStaging(FileSystem fs, String folder) throws java.io.IOException {
        assertFalse(
                fs.exists(new Path(folder + "/" + CheckpointCommitter.STAGING)),
                () -> "staging cleaned up, but found " + listRecursively(fs, folder));
    }

    /** Every file under {@code folder}, for failure messages. */
    static String listRecursively(FileSystem fs, String folder) {
        StringBuilder sb = new StringBuilder();
        try {
            for (FileStatus s : fs.listStatus(new Path(folder))) {
                sb.append(s.getPath())
                        .append(
                                s.isDirectory()
                                        ? "/ ["
                                                + listRecursively(
                                                        fs, s.getPath().toString()) + "] "
                                        : " ");
            }
        } catch (java.io.IOException e) {
            sb.append(e);
        }
        return sb.toString();
    }

    /** Every file of a folder on {@code fs} by name, with its bytes (folders in it are not listed). */
    static Map<String, byte[]> files(FileSystem fs, String folder) throws Exception {
        Map<String, byte[]> out = new TreeMap<>();
        for (FileStatus s : fs.listStatus(new Path(folder))) {
            if (s.isDirectory()) {
                continue;
            }
            try (InputStream in = fs.open(s.getPath())) {
                out.put(s.getPath().getName(), in.readAllBytes());
            }
        }
        return out;
    }

    /**
     * A {@code local-cluster} session: executors in separate JVMs with this JVM's class path and the flags Spark
     * needs on Java 17, returned once all of them are up (they take some seconds to start).
     */
    static SparkSession separateExecutors(String app, int executors, String executorMemory) {
        return awaitExecutors(
                executorJvms(SparkSessions.builder(app, "local-cluster[" + executors + ",1,1024]"), executorMemory)
                        .getOrCreate(),
                executors);
    }

    /** Executors in their own JVMs get this JVM's class path and the flags Spark needs on Java 17. */
    static SparkSession.Builder executorJvms(SparkSession.Builder builder, String executorMemory) {
        String flags = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens")
                        || a.startsWith("--add-modules")
                        || a.startsWith("-Dio.netty")
                        || a.startsWith("-XX:+IgnoreUnrecognizedVMOptions")
                        || a.startsWith("-Djava.io.tmpdir"))
                .collect(Collectors.joining(" "));
        return builder.config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .config("spark.executor.extraJavaOptions", flags)
                .config("spark.executor.memory", executorMemory);
    }

    /** Returns {@code spark} once its executors are up (they take some seconds to start), or after 2 minutes. */
    static SparkSession awaitExecutors(SparkSession spark, int executors) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (spark.sparkContext().getExecutorMemoryStatus().size() < executors + 1 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return spark;
    }

    /**
     * Writes the bundled checkpoint from {@code source} (a copy on {@code fs}) with the DataFrame writer and the
     * re-shard job into folders under {@code root}, and checks both give the bytes a local re-shard gives, with
     * the config files copied and the staging gone.
     */
    static void assertWritesMatchLocalDisk(
            SparkSession spark, FileSystem fs, String source, String root, java.nio.file.Path local) throws Exception {
        String written = root + "/written";
        spark.read()
                .format("safetensors")
                .load(source)
                .write()
                .format("safetensors")
                .option("maxShardSize", "150KB")
                .save(written);
        String resharded = root + "/resharded";
        CheckpointReshard.run(
                spark, source, resharded, ReshardOptions.defaults().withMaxShardSize(ByteSizes.parse("150KB")));
        java.nio.file.Path localOut = local.resolve("out");
        CheckpointReshard.run(
                spark,
                DemoCheckpoint.path().toString(),
                localOut.toString(),
                ReshardOptions.defaults().withMaxShardSize(ByteSizes.parse("150KB")));
        assertNoStaging(fs, written);
        Map<String, byte[]> fromWriter = files(fs, written);
        Map<String, byte[]> fromReshard = files(fs, resharded);
        assertTrue(
                fromWriter.containsKey("model.safetensors.index.json"),
                fromWriter.keySet().toString());
        for (var e : fromWriter.entrySet()) {
            assertArrayEquals(Files.readAllBytes(localOut.resolve(e.getKey())), e.getValue(), e.getKey());
            assertArrayEquals(e.getValue(), fromReshard.get(e.getKey()), e.getKey());
        }
        assertTrue(fromReshard.containsKey("config.json"));
        assertFalse(fs.exists(new Path(written + "/" + CheckpointCommitter.STAGING)), "staging cleaned up");
    }

    /**
     * Copies every file of a local folder (dotfiles too: DCP's .metadata) into {@code target} on {@code fs}, each
     * as a plain stream (copyFromLocalFile differs between Hadoop lines: 3.4.1's fails on S3 for this layout).
     */
    static void upload(FileSystem fs, java.nio.file.Path folder, String target) throws IOException {
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(folder)) {
            for (java.nio.file.Path f : files.toList()) {
                try (var out = fs.create(new org.apache.hadoop.fs.Path(target + "/" + f.getFileName()), false)) {
                    java.nio.file.Files.copy(f, out);
                }
            }
        }
    }
}
