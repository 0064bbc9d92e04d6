package io.sparktensors.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.checkpoint.ByteSizes;
import io.sparktensors.spark.functions.TensorHashes;
import io.sparktensors.spark.read.metrics.TensorScanMetrics;
import io.sparktensors.spark.reshard.CheckpointReshard;
import io.sparktensors.spark.reshard.ReshardOptions;
import io.sparktensors.testing.Fixtures;
import io.sparktensors.testing.SparkSessions;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Read, write and re-shard on s3a:// paths against a real S3 server (S3Proxy) on 127.0.0.1. */
@Timeout(value = 5, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class S3Test {
    @TempDir
    static Path work;

    private static S3Server server;
    private static SparkSession spark;
    private static FileSystem s3;
    private static final String ROOT = "s3a://" + S3Server.BUCKET;

    @BeforeAll
    static void start() throws Exception {
        server = S3Server.start(work);
        SparkSession.Builder builder = SparkSessions.builder("S3Test", "local[2]");
        server.configure(builder);
        spark = builder.getOrCreate();
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        s3 = FileSystem.get(URI.create(ROOT + "/"), conf);
        Harness.upload(s3, DemoCheckpoint.path(), ROOT + "/demo");
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
        if (server != null) {
            server.close();
        }
    }

    private static Map<String, String> hashes(String path) {
        Map<String, String> out = new TreeMap<>();
        Dataset<Row> df = spark.read()
                .format("safetensors")
                .option("maxChunkBytes", "8192")
                .load(path);
        for (Row r : TensorHashes.sha256(df).collectAsList()) {
            out.put(r.getString(0), r.getString(1));
        }
        return out;
    }

    private static Map<String, byte[]> files(String folder) throws Exception {
        return Harness.files(s3, folder);
    }

    @Test
    void readsAnIndexFolderFromS3WithTheRightBytes() {
        Map<String, String> got = hashes(ROOT + "/demo");
        Map<String, Fixtures.Expected> expected = DemoCheckpoint.expected();
        assertEquals(expected.keySet(), got.keySet());
        expected.forEach((name, e) -> assertEquals(e.sha256(), got.get(name), name));
    }

    /** GET requests and bytes the server saw for each shard object. */
    private static Map<String, long[]> shardGets() {
        Map<String, long[]> out = new TreeMap<>();
        for (String line : server.proxy().requests) {
            String[] parts = line.split(" ");
            String path = parts[1].split("\\?")[0];
            if (parts[0].equals("GET") && path.endsWith(".safetensors")) {
                out.computeIfAbsent(path, k -> new long[2])[0]++;
            }
        }
        server.proxy().getBytesByPath.forEach((path, bytes) -> {
            if (out.containsKey(path)) {
                out.get(path)[1] = bytes.get();
            }
        });
        return out;
    }

    @Test
    void listingCostsOneGetPerShardAndAFullReadFetchesEachByteOnce() throws Exception {
        server.proxy().reset();
        Dataset<Row> listing =
                spark.read().format("safetensors").load(ROOT + "/demo").select("name", "shape");
        assertEquals(39, listing.collectAsList().size());
        Map<String, Long> m = SparkSessions.scanMetrics(listing);
        assertEquals(3L, m.get(TensorScanMetrics.HEADER_READS), "one positioned read per shard");
        assertEquals(0L, m.get(TensorScanMetrics.TENSOR_BYTES));
        Map<String, long[]> gets = shardGets();
        assertEquals(3, gets.size(), gets.keySet().toString());
        gets.forEach((path, c) -> assertEquals(1, c[0], "GET requests for " + path));

        server.proxy().reset();
        spark.read()
                .format("safetensors")
                .load(ROOT + "/demo")
                .selectExpr("sum(length(data))")
                .collectAsList();
        for (var e : shardGets().entrySet()) {
            long length = Files.size(DemoCheckpoint.path()
                    .resolve(e.getKey().substring(e.getKey().lastIndexOf('/') + 1)));
            long header = Math.min(length, io.sparktensors.format.safetensors.HeaderReader.FIRST_READ_BYTES);
            assertTrue(
                    e.getValue()[1] <= length + header,
                    e.getKey() + ": fetched " + e.getValue()[1] + " bytes of a " + length + "-byte file (plus at most "
                            + header + " for the header)");
            assertTrue(e.getValue()[1] >= length, e.getKey() + ": every byte fetched");
        }
    }

    @Test
    void largeShardsUseMultipartUploadAndCommitCopiesOnTheServer(@TempDir Path local) throws Exception {
        Path src = io.sparktensors.testing.TestCheckpoints.write(
                local.resolve("big.safetensors"),
                null,
                java.util.List.of(io.sparktensors.testing.TestCheckpoints.random(
                        "big", io.sparktensors.format.DType.F32, new long[] {5 << 20}, 3)));
        server.proxy().reset();
        String out = ROOT + "/big-reshard";
        CheckpointReshard.run(spark, src.toString(), out, ReshardOptions.defaults());
        long shard = Files.size(src);
        assertTrue(server.proxy().posts.get() >= 2, "multipart upload initiated and completed");
        assertTrue(
                server.proxy().uploadBytes.get() < shard + (1 << 20),
                "tensor bytes uploaded once (" + server.proxy().uploadBytes.get() + " for a " + shard + "-byte shard): "
                        + "publishing copies on the server");
        Path localOut = local.resolve("local");
        CheckpointReshard.run(spark, src.toString(), localOut.toString(), ReshardOptions.defaults());
        assertArrayEquals(
                Files.readAllBytes(localOut.resolve("model.safetensors")),
                files(out).get("model.safetensors"));
    }

    @Test
    void convertsADistributedCheckpointOnS3() throws Exception {
        String src = ROOT + "/dcp-two-ranks";
        Harness.upload(s3, Fixtures.golden("dcp", "two-ranks"), src);
        Map<String, String> expected = Fixtures.dcpHashes("two-ranks");
        assertEquals(
                expected, SparkSessions.tensorHashes(spark.read().format("dcp").load(src)));
        CheckpointReshard.run(
                spark, src, ROOT + "/dcp-converted", ReshardOptions.defaults().withMaxShardSize(4096));
        assertEquals(
                expected,
                SparkSessions.tensorHashes(spark.read().format("safetensors").load(ROOT + "/dcp-converted")));
    }

    @Test
    void writesAndReshardsOnS3LikeOnLocalDisk(@TempDir Path local) throws Exception {
        Harness.assertWritesMatchLocalDisk(spark, s3, ROOT + "/demo", ROOT, local);
    }

    @Test
    void s3aRetriesCarryReadsThroughFailedGetsWithIdenticalOutput(@TempDir Path local) throws Exception {
        Path clean = local.resolve("clean");
        CheckpointReshard.run(
                spark,
                DemoCheckpoint.path().toString(),
                clean.toString(),
                ReshardOptions.defaults().withMaxShardSize(ByteSizes.parse("100KB")));
        server.proxy().reset();
        server.proxy().failGets(0.25);
        Path faulty = local.resolve("faulty");
        Map<String, String> read;
        try {
            CheckpointReshard.run(
                    spark,
                    ROOT + "/demo",
                    faulty.toString(),
                    ReshardOptions.defaults().withMaxShardSize(ByteSizes.parse("100KB")));
            read = hashes(ROOT + "/demo");
        } finally {
            server.proxy().failGets(0);
        }
        assertTrue(
                server.proxy().injected.get() >= 3,
                "faults injected: " + server.proxy().injected.get());
        try (Stream<Path> s = Files.list(clean)) {
            for (Path p : s.toList()) {
                assertArrayEquals(
                        Files.readAllBytes(p),
                        Files.readAllBytes(faulty.resolve(p.getFileName())),
                        p.getFileName().toString());
            }
        }
        DemoCheckpoint.expected().forEach((name, e) -> assertEquals(e.sha256(), read.get(name), name));
    }

    @Test
    void s3aRetriesCarryWritesThroughFailedUploadsWithIdenticalOutput(@TempDir Path local) throws Exception {
        Path big = io.sparktensors.testing.TestCheckpoints.write(
                local.resolve("big.safetensors"),
                null,
                java.util.List.of(io.sparktensors.testing.TestCheckpoints.random(
                        "big", io.sparktensors.format.DType.F32, new long[] {5 << 20}, 7)));
        Path clean = local.resolve("clean");
        CheckpointReshard.run(
                spark,
                DemoCheckpoint.path().toString(),
                clean.toString(),
                ReshardOptions.defaults().withMaxShardSize(ByteSizes.parse("100KB")));
        Path cleanBig = local.resolve("clean-big");
        CheckpointReshard.run(spark, big.toString(), cleanBig.toString(), ReshardOptions.defaults());
        server.proxy().reset();
        server.proxy().failUploads(0.25);
        try {
            spark.read()
                    .format("safetensors")
                    .load(DemoCheckpoint.path().toString())
                    .write()
                    .format("safetensors")
                    .option("maxShardSize", "100KB")
                    .save(ROOT + "/faulty-written");
            CheckpointReshard.run(
                    spark,
                    DemoCheckpoint.path().toString(),
                    ROOT + "/faulty-resharded",
                    ReshardOptions.defaults().withMaxShardSize(ByteSizes.parse("100KB")));
            CheckpointReshard.run(spark, big.toString(), ROOT + "/faulty-big", ReshardOptions.defaults());
        } finally {
            server.proxy().failUploads(0);
        }
        assertTrue(
                server.proxy().injectedUploads.get() >= 5,
                "faults injected: " + server.proxy().injectedUploads.get());
        assertTrue(server.proxy().posts.get() >= 2, "the large shard went up in parts");
        for (String out : java.util.List.of("/faulty-written", "/faulty-resharded")) {
            Map<String, byte[]> got = files(ROOT + out);
            try (Stream<Path> s = Files.list(clean)) {
                for (Path p : s.toList()) {
                    String name = p.getFileName().toString();
                    if (out.equals("/faulty-written")
                            && !name.endsWith(".safetensors")
                            && !name.endsWith(".index.json")) {
                        continue; // the writer copies no side files
                    }
                    assertArrayEquals(Files.readAllBytes(p), got.get(name), out + "/" + name);
                }
            }
        }
        assertEquals(
                java.util.Set.of("model.safetensors"),
                files(ROOT + "/faulty-big").keySet());
        assertArrayEquals(
                Files.readAllBytes(cleanBig.resolve("model.safetensors")),
                files(ROOT + "/faulty-big").get("model.safetensors"));
    }
}
