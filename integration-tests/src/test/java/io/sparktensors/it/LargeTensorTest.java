package io.sparktensors.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.format.safetensors.DType;
import io.sparktensors.format.safetensors.HeaderWriter;
import io.sparktensors.format.safetensors.TensorEntry;
import io.sparktensors.spark.CheckpointReshard;
import io.sparktensors.spark.ReshardOptions;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint with one tensor larger than executors' memory (and, at full size, than Java's array limit),
 * read, re-sharded and rewritten by executors limited to 1 GB of heap. The tensor's data is a hole in a
 * sparse file, so making it costs no time. Size: {@code -Dspark.tensors.it.largeTensorBytes} (default
 * 320 MiB for CI; the README reports a run at 2.5 GB).
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LargeTensorTest {
  private static final long BYTES = Long.getLong("spark.tensors.it.largeTensorBytes", 320L << 20) / 4096 * 4096;
  private static SparkSession spark;
  @TempDir static Path dir;

  @BeforeAll
  static void start() {
    spark = Harness.separateExecutors("LargeTensorTest", 2, "1g");
  }

  @AfterAll
  static void stop() {
    if (spark != null) {
      spark.stop();
    }
  }

  /** The SHA-256 of {@code length} bytes of {@code file} from {@code offset}, streamed. */
  private static String sha256(Path file, long offset, long length) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    try (InputStream in = Files.newInputStream(file)) {
      in.skipNBytes(offset);
      byte[] buffer = new byte[1 << 20];
      for (long left = length; left > 0; ) {
        int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
        md.update(buffer, 0, n);
        left -= n;
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static String zerosSha256(long length) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    byte[] zeros = new byte[1 << 20];
    for (long left = length; left > 0; left -= Math.min(zeros.length, left)) {
      md.update(zeros, 0, (int) Math.min(zeros.length, left));
    }
    return HexFormat.of().formatHex(md.digest());
  }

  @Test
  void scansReshardsAndRewritesATensorLargerThanExecutorMemory() throws Exception {
    Path src = dir.resolve("src");
    Files.createDirectories(src);
    Path file = src.resolve("model.safetensors");
    List<TensorEntry> layout = HeaderWriter.layout(List.of(
        new HeaderWriter.Spec("big", DType.F32, new long[] {BYTES / 4096, 1024}),
        new HeaderWriter.Spec("small", DType.F32, new long[] {4})));
    byte[] header = HeaderWriter.write(Map.of("format", "pt"), layout);
    long length = header.length + layout.get(1).end();
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.write(header);
      raf.setLength(length); // the data is a hole: zeros
    }

    Row scan = spark.read().format("safetensors").load(src.toString()).where("name = 'big'")
        .selectExpr("sum(length(data))", "max(length(data))", "max(chunk_count)", "count(*)").first();
    assertEquals(BYTES, scan.getLong(0));
    assertTrue(scan.getInt(1) <= 128 << 20, "chunks of at most maxChunkBytes");
    assertEquals(scan.getLong(3), scan.getInt(2));

    Path resharded = dir.resolve("resharded");
    CheckpointReshard.run(spark, src.toString(), resharded.toString(), ReshardOptions.defaults());
    Path out = resharded.resolve("model.safetensors");
    assertEquals(length, Files.size(out));
    String zeros = zerosSha256(BYTES);
    long bigOffset = header.length + (layout.get(0).name().equals("big") ? layout.get(0).begin() : layout.get(1).begin());
    assertEquals(zeros, sha256(out, bigOffset, BYTES));

    Path written = dir.resolve("written");
    spark.read().format("safetensors").load(src.toString()).write().format("safetensors").save(written.toString());
    assertEquals(sha256(out, 0, length), sha256(written.resolve("model.safetensors"), 0, length),
        "the writer's output is the re-shard job's, byte for byte");
  }
}
