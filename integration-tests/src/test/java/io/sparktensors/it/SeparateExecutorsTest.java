package io.sparktensors.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.checkpoint.ByteSizes;
import io.sparktensors.spark.functions.TensorHashes;
import io.sparktensors.spark.reshard.CheckpointReshard;
import io.sparktensors.spark.reshard.ReshardOptions;
import io.sparktensors.testing.Fixtures;
import io.sparktensors.testing.Hashes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Read, write and re-shard on a Spark cluster whose two executors are separate JVMs (local-cluster), so all
 * that goes to executors is proven serializable and nothing leans on driver state; and a read that loses an
 * executor JVM midway.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 6, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SeparateExecutorsTest {
    private static SparkSession spark;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        spark = Harness.separateExecutors("SeparateExecutorsTest", 2, "768m");
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    private static Map<String, String> hashes(String path) {
        Map<String, String> out = new TreeMap<>();
        for (Row r : TensorHashes.sha256(spark.read()
                        .format("safetensors")
                        .option("maxChunkBytes", "4096")
                        .load(path))
                .collectAsList()) {
            out.put(r.getString(0), r.getString(1));
        }
        return out;
    }

    @Test
    @Order(1)
    void readsWritesAndReshardsWithExecutorsInOtherJvms() throws Exception {
        String executors =
                spark.sparkContext().getExecutorMemoryStatus().keySet().mkString(",");
        assertEquals(
                3, spark.sparkContext().getExecutorMemoryStatus().size(), "driver and two executors: " + executors);
        Map<String, String> read = hashes(DemoCheckpoint.path().toString());
        DemoCheckpoint.expected().forEach((name, e) -> assertEquals(e.sha256(), read.get(name), name));

        Path written = dir.resolve("written");
        spark.read()
                .format("safetensors")
                .option("maxChunkBytes", "8192")
                .load(DemoCheckpoint.path().toString())
                .write()
                .format("safetensors")
                .option("maxShardSize", "100KB")
                .option("dtype", "F32")
                .save(written.toString());
        Path resharded = dir.resolve("resharded");
        CheckpointReshard.run(
                spark,
                DemoCheckpoint.path().toString(),
                resharded.toString(),
                ReshardOptions.defaults()
                        .withMaxShardSize(ByteSizes.parse("100KB"))
                        .withDtype(io.sparktensors.format.DType.F32));
        try (Stream<Path> files = Files.list(written)) {
            for (Path f : files.toList()) {
                assertArrayEquals(
                        Files.readAllBytes(f),
                        Files.readAllBytes(resharded.resolve(f.getFileName())),
                        f.getFileName().toString());
            }
        }
        assertEquals(
                39,
                spark.read()
                        .format("safetensors")
                        .load(written.toString())
                        .where("dtype = 'F32'")
                        .count());
    }

    @Test
    @Order(2)
    void aReadCompletesWhenAnExecutorIsLostMidRead() throws Exception {
        Dataset<Row> df = spark.read()
                .format("safetensors")
                .option("maxChunkBytes", "4096")
                .option("maxPartitionBytes", "65536")
                .load(DemoCheckpoint.path().toString());
        assertTrue(df.rdd().getNumPartitions() >= 4, "several read tasks");
        // The first attempt of read task 1 takes its executor JVM down while the scan runs.
        Dataset<Row> losing = df.mapPartitions(
                (MapPartitionsFunction<Row, Row>) rows -> {
                    TaskContext task = TaskContext.get();
                    if (task.partitionId() == 1 && task.attemptNumber() == 0) {
                        Runtime.getRuntime().halt(3);
                    }
                    return rows;
                },
                Encoders.row(df.schema()));
        Map<String, java.util.TreeMap<Integer, byte[]>> chunks = new TreeMap<>();
        for (Row r : losing.select("name", "chunk", "data").collectAsList()) {
            chunks.computeIfAbsent(r.getString(0), k -> new java.util.TreeMap<>())
                    .put(r.getInt(1), (byte[]) r.get(2));
        }
        Map<String, Fixtures.Expected> expected = DemoCheckpoint.expected();
        assertEquals(expected.keySet(), chunks.keySet());
        for (var e : chunks.entrySet()) {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            for (byte[] part : e.getValue().values()) {
                bytes.write(part);
            }
            assertEquals(expected.get(e.getKey()).sha256(), Hashes.sha256(bytes.toByteArray()), e.getKey());
        }
    }

    @Test
    @Order(3)
    void everyFormatAndTheFunctionsRunOnExecutorsInOtherJvms() throws Exception {
        // Strided PyTorch views, TF checksummed tensors, ONNX packed fields, GGUF and HDF5 are decoded on the
        // executors, from decoders shipped there; chunks of 16 bytes make every decoder start mid-tensor.
        for (String[] ref : new String[][] {
            {"torch-zoo", "zoo.pt"},
            {"tf-savedmodel", "saved_model"},
            {"onnx-mlp", "model.onnx"},
            {"gguf-small", "small.gguf"},
            {"keras-dense", "legacy.h5"}
        }) {
            Path folder = Fixtures.reference(ref[0]);
            assertEquals(
                    Fixtures.expectedHashes(folder),
                    io.sparktensors.testing.SparkSessions.tensorHashes(spark.read()
                            .format("tensors")
                            .option("maxChunkBytes", "16")
                            .load(folder.resolve(ref[1]).toString())),
                    ref[0]);
        }
        io.sparktensors.spark.functions.TensorFunctions.register(spark);
        Row stats = spark.read()
                .format("safetensors")
                .option("maxChunkBytes", "4096")
                .load(DemoCheckpoint.path().toString())
                .groupBy("name")
                .agg(io.sparktensors.spark.functions.TensorFunctions.tensorStatsMerge(
                                io.sparktensors.spark.functions.TensorFunctions.tensorStats(
                                        org.apache.spark.sql.functions.col("data"),
                                        org.apache.spark.sql.functions.col("dtype")))
                        .as("s"))
                .selectExpr("sum(s.count)")
                .first();
        long parameters = DemoCheckpoint.expected().values().stream()
                .mapToLong(e -> java.util.Arrays.stream(e.shape()).reduce(1, (a, b) -> a * b))
                .sum();
        assertEquals(parameters, stats.getLong(0));
    }

    @Test
    @Order(4)
    void aCorruptTensorFailsOnTheExecutorNamingFileAndTensorAndTheClusterCarriesOn() throws Exception {
        // A TF bundle whose data shard has one byte flipped: listing succeeds, the executor's checksum fails.
        Path copy = dir.resolve("saved_model");
        Path variables = Files.createDirectories(copy.resolve("variables"));
        Path source = Fixtures.reference("tf-savedmodel").resolve("saved_model").resolve("variables");
        Files.copy(source.resolve("variables.index"), variables.resolve("variables.index"));
        byte[] data = Files.readAllBytes(source.resolve("variables.data-00000-of-00001"));
        data[0] ^= 1; // the first tensor's first byte (the object graph, read while listing, comes last)
        Files.write(variables.resolve("variables.data-00000-of-00001"), data);
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(
                Exception.class,
                () -> spark.read()
                        .format("tensorflow")
                        .load(copy.toString())
                        .select("data")
                        .collectAsList());
        String message = String.valueOf(e.getMessage());
        assertTrue(
                message.contains("MalformedTensorFileException")
                        && message.contains("variables.data-00000-of-00001")
                        && message.contains("checksum"),
                message);
        // Skipped under ignoreCorruptFiles; and the executors keep serving jobs.
        long rows = spark.read()
                .format("tensorflow")
                .option("ignoreCorruptFiles", "true")
                .load(copy.toString())
                .select("data")
                .collectAsList()
                .size();
        assertTrue(rows < 3, "the corrupt file's remaining tensors are skipped: " + rows);
        assertEquals(
                DemoCheckpoint.expected().size(),
                hashes(DemoCheckpoint.path().toString()).size());
    }
}
