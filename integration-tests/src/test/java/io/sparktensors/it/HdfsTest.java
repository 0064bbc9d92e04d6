package io.sparktensors.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.spark.functions.TensorHashes;
import io.sparktensors.spark.read.metrics.TensorScanMetrics;
import io.sparktensors.spark.reshard.CheckpointReshard;
import io.sparktensors.spark.reshard.ReshardOptions;
import io.sparktensors.testing.Fixtures;
import io.sparktensors.testing.SparkSessions;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.connector.read.InputPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The source, the writer and the re-shard job on a real HDFS (Hadoop's minicluster: two DataNodes,
 * replication 2), including a DataNode that stops in the middle of a job.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 5, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HdfsTest {
    private static MiniDFSCluster cluster;
    private static SparkSession spark;
    private static FileSystem fs;
    private static String root;

    @BeforeAll
    static void start() throws Exception {
        Configuration conf = new Configuration();
        File base = Files.createTempDirectory("minidfs").toFile();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.getAbsolutePath());
        conf.setInt("dfs.replication", 2);
        cluster = new MiniDFSCluster.Builder(conf).numDataNodes(2).build();
        cluster.waitActive();
        fs = cluster.getFileSystem();
        root = fs.getUri() + "/ckpt";
        try (Stream<Path> files = Files.list(DemoCheckpoint.path())) {
            for (Path f : files.toList()) {
                fs.copyFromLocalFile(
                        new org.apache.hadoop.fs.Path(f.toString()),
                        new org.apache.hadoop.fs.Path(root + "/tiny-llama/" + f.getFileName()));
            }
        }
        spark = SparkSessions.local("HdfsTest");
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
        if (cluster != null) {
            cluster.shutdown();
        }
    }

    private static void assertReferenceHashes(Dataset<Row> df) {
        Map<String, Fixtures.Expected> expected = DemoCheckpoint.expected();
        List<Row> hashes = TensorHashes.sha256(df).collectAsList();
        assertEquals(expected.size(), hashes.size());
        for (Row r : hashes) {
            assertEquals(expected.get(r.getString(0)).sha256(), r.getString(1), r.getString(0));
        }
    }

    private static Map<String, byte[]> files(String folder) throws Exception {
        return Harness.files(fs, folder);
    }

    @Test
    @Order(1)
    void readsAnIndexFolderOnHdfsWithTheRightBytes() {
        Dataset<Row> df = spark.read()
                .format("safetensors")
                .option("maxChunkBytes", "4096")
                .load(root + "/tiny-llama");
        assertReferenceHashes(df);
        assertTrue(df.select("file").first().getString(0).startsWith("hdfs://"));
    }

    @Test
    @Order(2)
    void listingOnHdfsReadsHeadersOnly() {
        Dataset<Row> listing =
                spark.read().format("safetensors").load(root + "/tiny-llama").select("name", "shape");
        assertEquals(DemoCheckpoint.expected().size(), listing.collectAsList().size());
        Map<String, Long> m = SparkSessions.scanMetrics(listing);
        assertEquals(0L, m.get(TensorScanMetrics.TENSOR_BYTES));
        assertEquals(3L, m.get(TensorScanMetrics.FILES_PLANNED));
        assertEquals(3L, m.get(TensorScanMetrics.HEADER_READS), "one read per shard: the headers are small");
    }

    @Test
    @Order(2)
    void everySplitPrefersTheDataNodesHoldingItsBytes() throws Exception {
        Dataset<Row> df = spark.read()
                .format("safetensors")
                .option("maxPartitionBytes", "65536")
                .load(root + "/tiny-llama");
        df.queryExecution().executedPlan(); // plans the scan
        List<InputPartition> partitions = scanPartitions(df);
        assertTrue(partitions.size() > 1, "several splits: " + partitions.size());
        java.util.Set<String> dataNodes = new java.util.HashSet<>();
        for (org.apache.hadoop.hdfs.server.datanode.DataNode dn : cluster.getDataNodes()) {
            dataNodes.add(dn.getDatanodeId().getHostName());
            dataNodes.add(dn.getDatanodeId().getIpAddr());
        }
        for (InputPartition p : partitions) {
            List<String> hosts = List.of(p.preferredLocations());
            assertFalse(hosts.isEmpty(), "a split without preferred hosts");
            assertTrue(dataNodes.containsAll(hosts), hosts + " are DataNodes " + dataNodes);
            // Replication 2 on two DataNodes: each block is on both, so a split names the hosts of its blocks.
            String file = ((io.sparktensors.checkpoint.ReadSplit) splitOf(p))
                    .slices()
                    .get(0)
                    .file()
                    .location();
            org.apache.hadoop.fs.BlockLocation[] blocks =
                    fs.getFileBlockLocations(new org.apache.hadoop.fs.Path(file), 0, Long.MAX_VALUE);
            assertEquals(java.util.Set.copyOf(List.of(blocks[0].getHosts())), java.util.Set.copyOf(hosts), file);
        }
    }

    /** The input partitions of the single tensor scan in the plan of {@code df}. */
    private static List<InputPartition> scanPartitions(Dataset<Row> df) {
        for (org.apache.spark.sql.execution.SparkPlan leaf : io.sparktensors.spark.compat.ScalaCollections.asJava(
                df.queryExecution().executedPlan().collectLeaves())) {
            if (leaf instanceof org.apache.spark.sql.execution.datasources.v2.BatchScanExec scan) {
                return List.of(scan.batch().planInputPartitions());
            }
        }
        throw new AssertionError("no tensor scan in " + df.queryExecution().executedPlan());
    }

    private static Object splitOf(InputPartition p) throws ReflectiveOperationException {
        java.lang.reflect.Method split = p.getClass().getDeclaredMethod("split");
        split.setAccessible(true);
        return split.invoke(p);
    }

    @Test
    @Order(3)
    void convertsEveryFormatOnHdfs() throws Exception {
        // A PyTorch, an ONNX (with external data) and a TF SavedModel checkpoint, each copied to HDFS, converted
        // there to safetensors by the re-shard job, hash for hash as the reference tools wrote them.
        for (String[] ref : new String[][] {
            {"tiny-gpt2-bin-sharded", ""}, {"onnx-mlp-external", ""}, {"tf-savedmodel", "saved_model"}
        }) {
            Path folder = Fixtures.reference(ref[0]);
            String src = root + "/" + ref[0];
            fs.copyFromLocalFile(
                    false, true, new org.apache.hadoop.fs.Path(folder.toString()), new org.apache.hadoop.fs.Path(src));
            String dst = root + "/converted-" + ref[0];
            CheckpointReshard.run(
                    spark,
                    ref[1].isEmpty() ? src : src + "/" + ref[1],
                    dst,
                    ReshardOptions.defaults().withMaxShardSize(4096));
            Map<String, String> expected = Fixtures.expectedHashes(folder);
            expected.remove("transformer.wte.weight"); // tied to lm_head.weight: one name is kept
            assertEquals(
                    expected,
                    SparkSessions.tensorHashes(
                            spark.read().format("safetensors").load(dst)),
                    ref[0]);
        }
    }

    @Test
    @Order(3)
    void convertsADistributedCheckpointOnHdfs() throws Exception {
        // Two gloo ranks' DCP files (Shard(0) and Shard(1) tensors, a replicated scalar) on HDFS: read as full
        // tensors, and converted there into HF safetensors, tensor for tensor as torch saved them.
        String src = root + "/dcp-two-ranks";
        Harness.upload(fs, Fixtures.golden("dcp", "two-ranks"), src);
        Map<String, String> expected = Fixtures.dcpHashes("two-ranks");
        assertEquals(
                expected,
                SparkSessions.tensorHashes(spark.read()
                        .format("tensors")
                        .option("maxChunkBytes", "64")
                        .load(src)));
        String dst = root + "/dcp-converted";
        CheckpointReshard.run(spark, src, dst, ReshardOptions.defaults().withMaxShardSize(4096));
        assertEquals(
                expected,
                SparkSessions.tensorHashes(spark.read().format("safetensors").load(dst)));
    }

    @Test
    @Order(4)
    void writesAndReshardsOnHdfsLikeOnLocalDisk(@TempDir Path local) throws Exception {
        Harness.assertWritesMatchLocalDisk(spark, fs, root + "/tiny-llama", root, local);
    }

    @Test
    @Order(5)
    void aReadCompletesWhenADataNodeStopsBetweenPlanningAndReading() throws Exception {
        Dataset<Row> df = spark.read()
                .format("safetensors")
                .option("maxChunkBytes", "4096")
                .load(root + "/tiny-llama");
        df.queryExecution().executedPlan(); // planned: headers read, splits made
        cluster.stopDataNode(0);
        assertReferenceHashes(df);
    }
}
