package io.sparktensors.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.spark.TensorHashes;
import io.sparktensors.spark.TensorScanMetrics;
import io.sparktensors.testing.Fixtures;
import io.sparktensors.testing.SparkSessions;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The source on a real HDFS (Hadoop's minicluster): an index folder read through hdfs:// paths. */
class HdfsReadTest {
  private static MiniDFSCluster cluster;
  private static SparkSession spark;
  private static String root;

  @BeforeAll
  static void start() throws Exception {
    Configuration conf = new Configuration();
    File base = Files.createTempDirectory("minidfs").toFile();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.getAbsolutePath());
    cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
    cluster.waitActive();
    FileSystem fs = cluster.getFileSystem();
    root = fs.getUri() + "/ckpt/tiny-llama";
    try (Stream<Path> files = Files.list(DemoCheckpoint.path())) {
      for (Path f : files.toList()) {
        fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(f.toString()),
            new org.apache.hadoop.fs.Path(root + "/" + f.getFileName()));
      }
    }
    spark = SparkSessions.local("HdfsReadTest");
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

  @Test
  void readsAnIndexFolderOnHdfsWithTheRightBytes() {
    Dataset<Row> df = spark.read().format("safetensors").option("maxChunkBytes", "4096").load(root);
    Map<String, Fixtures.Expected> expected = DemoCheckpoint.expected();
    List<Row> hashes = TensorHashes.sha256(df).collectAsList();
    assertEquals(expected.size(), hashes.size());
    for (Row r : hashes) {
      assertEquals(expected.get(r.getString(0)).sha256(), r.getString(1), r.getString(0));
    }
    assertTrue(df.select("file").first().getString(0).startsWith("hdfs://"));
  }

  @Test
  void listingOnHdfsReadsHeadersOnly() {
    Dataset<Row> listing = spark.read().format("safetensors").load(root).select("name", "shape");
    assertEquals(DemoCheckpoint.expected().size(), listing.collectAsList().size());
    Map<String, Long> m = SparkSessions.scanMetrics(listing);
    assertEquals(0L, m.get(TensorScanMetrics.TENSOR_BYTES));
    assertEquals(3L, m.get(TensorScanMetrics.FILES_PLANNED));
    assertEquals(3L, m.get(TensorScanMetrics.HEADER_READS), "one read per shard: the headers are small");
  }
}
