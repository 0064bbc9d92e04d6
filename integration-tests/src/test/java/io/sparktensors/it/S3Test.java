package io.sparktensors.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.checkpoint.ByteSizes;
import io.sparktensors.spark.CheckpointReshard;
import io.sparktensors.spark.ReshardOptions;
import io.sparktensors.spark.TensorHashes;
import io.sparktensors.spark.TensorScanMetrics;
import io.sparktensors.testing.Fixtures;
import io.sparktensors.testing.SparkSessions;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Read, write and re-shard on s3a:// paths against a real S3 server (S3Proxy) on 127.0.0.1. */
class S3Test {
  @TempDir static Path work;
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
    try (Stream<Path> files = Files.list(DemoCheckpoint.path())) {
      for (Path f : files.toList()) {
        s3.copyFromLocalFile(new org.apache.hadoop.fs.Path(f.toString()),
            new org.apache.hadoop.fs.Path(ROOT + "/demo/" + f.getFileName()));
      }
    }
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
    Dataset<Row> df = spark.read().format("safetensors").option("maxChunkBytes", "8192").load(path);
    for (Row r : TensorHashes.sha256(df).collectAsList()) {
      out.put(r.getString(0), r.getString(1));
    }
    return out;
  }

  private static Map<String, byte[]> files(String folder) throws Exception {
    Map<String, byte[]> out = new TreeMap<>();
    for (FileStatus s : s3.listStatus(new org.apache.hadoop.fs.Path(folder))) {
      try (InputStream in = s3.open(s.getPath())) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        in.transferTo(bytes);
        out.put(s.getPath().getName(), bytes.toByteArray());
      }
    }
    return out;
  }

  @Test
  void readsAnIndexFolderFromS3WithTheRightBytes() {
    Map<String, String> got = hashes(ROOT + "/demo");
    Map<String, Fixtures.Expected> expected = DemoCheckpoint.expected();
    assertEquals(expected.keySet(), got.keySet());
    expected.forEach((name, e) -> assertEquals(e.sha256(), got.get(name), name));
  }

  @Test
  void listingReadsOnlyHeadersWithOneReadPerShard() {
    Dataset<Row> listing = spark.read().format("safetensors").load(ROOT + "/demo").select("name", "shape");
    assertEquals(39, listing.collectAsList().size());
    Map<String, Long> m = SparkSessions.scanMetrics(listing);
    assertEquals(3L, m.get(TensorScanMetrics.HEADER_READS), "one positioned read per shard");
    assertEquals(0L, m.get(TensorScanMetrics.TENSOR_BYTES));
  }

  @Test
  void writesAndReshardsOnS3LikeOnLocalDisk(@TempDir Path local) throws Exception {
    String written = ROOT + "/written";
    spark.read().format("safetensors").load(ROOT + "/demo").write().format("safetensors")
        .option("maxShardSize", "150KB").save(written);
    String resharded = ROOT + "/resharded";
    CheckpointReshard.run(spark, ROOT + "/demo", resharded,
        ReshardOptions.defaults().withMaxShardSize(ByteSizes.parse("150KB")));
    Path localOut = local.resolve("out");
    CheckpointReshard.run(spark, DemoCheckpoint.path().toString(), localOut.toString(),
        ReshardOptions.defaults().withMaxShardSize(ByteSizes.parse("150KB")));
    Map<String, byte[]> fromWriter = files(written);
    Map<String, byte[]> fromReshard = files(resharded);
    assertTrue(fromWriter.containsKey("model.safetensors.index.json"), fromWriter.keySet().toString());
    for (var e : fromWriter.entrySet()) {
      assertArrayEquals(Files.readAllBytes(localOut.resolve(e.getKey())), e.getValue(), e.getKey());
      assertArrayEquals(e.getValue(), fromReshard.get(e.getKey()), e.getKey());
    }
    assertTrue(fromReshard.containsKey("config.json"));
    assertTrue(!s3.exists(new org.apache.hadoop.fs.Path(written + "/_temporary")), "staging cleaned up");
    assertEquals(hashes(ROOT + "/demo"), hashes(resharded));
  }
}
