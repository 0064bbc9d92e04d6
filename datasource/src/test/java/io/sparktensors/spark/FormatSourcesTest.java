package io.sparktensors.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.testing.Fixtures;
import io.sparktensors.testing.SparkSessions;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every format through Spark: each reference checkpoint (made by the real tools, with expected.json) read by
 * its own source and by {@code format("tensors")}, in small chunks so decoders start mid-tensor, and
 * converted to safetensors by the re-shard job, with every tensor's SHA-256 as expected.
 */
class FormatSourcesTest {
  private static SparkSession spark;
  @TempDir Path dir;

  @BeforeAll
  static void start() {
    spark = SparkSessions.local("FormatSourcesTest");
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  @AfterEach
  void noArrowMemoryLeft() {
    assertEquals(0, Allocators.allocatedBytes(), "every reader closed its Arrow memory");
  }

  /** Reference folder, the path to read in it, and its format. */
  static Stream<Arguments> references() {
    return Stream.of(
        Arguments.of("tf-savedmodel", "saved_model", "tensorflow"),
        Arguments.of("keras-dense", "legacy.h5", "keras"),
        Arguments.of("onnx-mlp", "model.onnx", "onnx"),
        Arguments.of("onnx-mlp-external", "model.onnx", "onnx"),
        Arguments.of("gguf-small", "small.gguf", "gguf"),
        Arguments.of("tiny-llama-sharded", "", "safetensors"));
  }

  private static Map<String, String> hashes(Dataset<Row> df) {
    Map<String, String> out = new TreeMap<>();
    for (Row r : TensorHashes.sha256(df).collectAsList()) {
      out.put(r.getString(0), r.getString(1));
    }
    return out;
  }

  private static Map<String, String> expectedHashes(Path folder) {
    Map<String, String> out = new TreeMap<>();
    Fixtures.expected(folder).forEach((name, e) -> out.put(name, e.sha256()));
    return out;
  }

  @ParameterizedTest(name = "{2}: {0}")
  @MethodSource("references")
  void readsEveryFormatAsTheReferenceToolsWroteIt(String reference, String path, String format) {
    Path folder = Fixtures.reference(reference);
    String location = folder.resolve(path).toString();
    Map<String, String> expected = expectedHashes(folder);
    assertEquals(expected, hashes(spark.read().format(format).load(location)), format + " source");
    // Any format, told from the names; chunks of 16 bytes make every decoder start mid-tensor.
    assertEquals(expected, hashes(spark.read().format("tensors").option("maxChunkBytes", "16").load(location)),
        "tensors source, small chunks");
    List<Row> dtypes = spark.read().format(format).load(location).where("chunk = 0")
        .select("name", "dtype", "shape").collectAsList();
    Map<String, Fixtures.Expected> exp = Fixtures.expected(folder);
    for (Row r : dtypes) {
      Fixtures.Expected e = exp.get(r.getString(0));
      assertEquals(e.dtype(), r.getString(1), r.getString(0));
      assertEquals(List.of(java.util.Arrays.stream(e.shape()).boxed().toArray()), r.getList(2), r.getString(0));
    }
  }

  @ParameterizedTest(name = "{2}: {0}")
  @MethodSource("references")
  void convertsEveryFormatToSafetensors(String reference, String path, String format) {
    Path folder = Fixtures.reference(reference);
    String target = dir.resolve("out").toString();
    CheckpointReshard.Result r = CheckpointReshard.run(spark, folder.resolve(path).toString(), target,
        ReshardOptions.defaults().withMaxShardSize(1 << 10));
    assertEquals(expectedHashes(folder), hashes(spark.read().format("safetensors").load(target)));
    assertEquals(Fixtures.expected(folder).size(), r.tensors());
  }

  @Test
  void dataframeWriterConvertsAnyFormat() {
    Path folder = Fixtures.reference("tf-savedmodel");
    String target = dir.resolve("written").toString();
    spark.read().format("tensorflow").load(folder.resolve("saved_model").toString()).write()
        .format("safetensors").save(target);
    assertEquals(expectedHashes(folder), hashes(spark.read().format("safetensors").load(target)));
  }

  @Test
  void theFileColumnNamesTheFileHoldingTheBytes() {
    Path folder = Fixtures.reference("onnx-mlp-external");
    List<Row> files = spark.read().format("onnx").load(folder.resolve("model.onnx").toString())
        .select("file").distinct().collectAsList();
    assertEquals(1, files.size());
    assertTrue(files.get(0).getString(0).endsWith("weights.bin"), files.toString());
  }
}
