package io.sparktensors.spark.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.spark.reshard.CheckpointReshard;
import io.sparktensors.spark.reshard.ReshardOptions;
import io.sparktensors.testing.Fixtures;
import io.sparktensors.testing.SparkSessions;
import io.sparktensors.testing.SparkTestBase;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
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
class FormatSourcesTest extends SparkTestBase {
    @TempDir
    Path dir;

    /** Reference folder, the path to read in it, its format, and the tied names its reader drops. */
    static Stream<Arguments> references() {
        return Stream.of(
                Arguments.of("torch-zoo", "zoo.pt", "pytorch", ""),
                Arguments.of("torch-legacy", "legacy.pt", "pytorch", ""),
                Arguments.of("tiny-gpt2-bin", "", "pytorch", "transformer.wte.weight"),
                Arguments.of("tiny-gpt2-bin-sharded", "", "pytorch", "transformer.wte.weight"),
                Arguments.of("tf-savedmodel", "saved_model", "tensorflow", ""),
                Arguments.of("keras-dense", "legacy.h5", "keras", ""),
                Arguments.of("onnx-mlp", "model.onnx", "onnx", ""),
                Arguments.of("onnx-mlp-external", "model.onnx", "onnx", ""),
                Arguments.of("gguf-small", "small.gguf", "gguf", ""),
                Arguments.of("tiny-llama-sharded", "", "safetensors", ""));
    }

    private static Map<String, String> hashes(Dataset<Row> df) {
        return SparkSessions.tensorHashes(df);
    }

    /** The expected tensors of a reference folder, less the tied names a reader drops. */
    private static Map<String, String> expectedHashes(Path folder, String dropped) {
        Map<String, String> out = Fixtures.expectedHashes(folder);
        for (String name : dropped.split(",")) {
            out.remove(name);
        }
        return out;
    }

    @ParameterizedTest(name = "{2}: {0} {1}")
    @MethodSource("references")
    void readsEveryFormatAsTheReferenceToolsWroteIt(String reference, String path, String format, String dropped) {
        Path folder = Fixtures.reference(reference);
        String location = folder.resolve(path).toString();
        Map<String, String> expected = expectedHashes(folder, dropped);
        assertEquals(expected, hashes(spark.read().format(format).load(location)), format + " source");
        // Any format, told from the names; chunks of 16 bytes make every decoder start mid-tensor.
        assertEquals(
                expected,
                hashes(spark.read()
                        .format("tensors")
                        .option("maxChunkBytes", "16")
                        .load(location)),
                "tensors source, small chunks");
        List<Row> dtypes = spark.read()
                .format(format)
                .load(location)
                .where("chunk = 0")
                .select("name", "dtype", "shape")
                .collectAsList();
        Map<String, Fixtures.Expected> exp = Fixtures.expected(folder);
        for (Row r : dtypes) {
            Fixtures.Expected e = exp.get(r.getString(0));
            assertEquals(e.dtype(), r.getString(1), r.getString(0));
            assertEquals(List.of(java.util.Arrays.stream(e.shape()).boxed().toArray()), r.getList(2), r.getString(0));
        }
    }

    @ParameterizedTest(name = "{2}: {0} {1}")
    @MethodSource("references")
    void convertsEveryFormatToSafetensors(String reference, String path, String format, String dropped) {
        Path folder = Fixtures.reference(reference);
        String target = dir.resolve("out").toString();
        CheckpointReshard.Result r = CheckpointReshard.run(
                spark,
                folder.resolve(path).toString(),
                target,
                ReshardOptions.defaults().withMaxShardSize(1 << 10));
        assertEquals(
                expectedHashes(folder, dropped),
                hashes(spark.read().format("safetensors").load(target)));
        assertEquals(expectedHashes(folder, dropped).size(), r.tensors());
        // Beside the shards only the folder's small config files: no graph, no external data, no source shard.
        for (String copied : r.copiedFiles()) {
            assertTrue(copied.endsWith(".json"), reference + " copied " + copied);
        }
    }

    @Test
    void aTensorThatCanOnlyBeDecodedWholeIsBoundedByMaxChunkBytes() {
        // features.h5 (h5py, see golden/keras) holds gzip-chunked datasets, which jHDF decodes whole.
        String h5 = Path.of("src/test/resources/golden/keras/features.h5")
                .toAbsolutePath()
                .toString();
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(
                Exception.class,
                () -> spark.read()
                        .format("keras")
                        .option("maxChunkBytes", "16")
                        .load(h5)
                        .collectAsList());
        assertTrue(String.valueOf(e.getMessage()).contains("can only be decoded whole"), e.getMessage());
    }

    @Test
    void wholeModulesAndNumpyArraysReadUnlessThePickleOptionIsStrict() throws Exception {
        for (String file : new String[] {"module/model.pt", "lightning/lightning.pt", "numpy4/numpy.pt"}) {
            Path p = Fixtures.golden("pytorch", file); // in place, also when run from the test jar
            Map<String, String> expected = Fixtures.expectedHashes(p.getParent());
            assertEquals(
                    expected,
                    hashes(spark.read()
                            .format("pytorch")
                            .option("maxChunkBytes", "8")
                            .load(p.toString())),
                    file);
            if (!file.startsWith("numpy4")) {
                Exception e = org.junit.jupiter.api.Assertions.assertThrows(
                        Exception.class,
                        () -> spark.read()
                                .format("pytorch")
                                .option("pickle", "strict")
                                .load(p.toString())
                                .count());
                assertTrue(String.valueOf(e.getMessage()).contains("strict pickle mode"), e.getMessage());
            }
        }
        Exception bad = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class,
                () -> spark.read()
                        .format("pytorch")
                        .option("pickle", "eval")
                        .load(dir.toString())
                        .count());
        assertTrue(bad.getMessage().contains("use strict or symbolic"), bad.getMessage());
    }

    @Test
    void tiedWeightsKeepOneNameAndTheIndexStillChecksOut() {
        // The sharded legacy checkpoint's index lists both tied names; the reader keeps one and records the other
        // in the file metadata, which satisfies the index check.
        Path folder = Fixtures.reference("tiny-gpt2-bin-sharded");
        Dataset<Row> df = spark.read().format("pytorch").load(folder.toString());
        List<Row> meta =
                df.where("name = 'lm_head.weight'").select("file_metadata").collectAsList();
        assertEquals("lm_head.weight", meta.get(0).getJavaMap(0).get("transformer.wte.weight"));
    }

    @Test
    void kerasArchivesAndWeightsFilesHoldTheSameTensors() {
        Path folder = Fixtures.reference("keras-dense");
        java.util.TreeSet<String> expected =
                new java.util.TreeSet<>(expectedHashes(folder, "").values());
        for (String file : List.of("model.keras", "model.weights.h5", "legacy.h5")) {
            Dataset<Row> df =
                    spark.read().format("tensors").load(folder.resolve(file).toString());
            assertEquals(expected, new java.util.TreeSet<>(hashes(df).values()), file);
        }
    }

    @Test
    void dataframeWriterConvertsAnyFormat() {
        Path folder = Fixtures.reference("tf-savedmodel");
        String target = dir.resolve("written").toString();
        spark.read()
                .format("tensorflow")
                .load(folder.resolve("saved_model").toString())
                .write()
                .format("safetensors")
                .save(target);
        assertEquals(
                expectedHashes(folder, ""),
                hashes(spark.read().format("safetensors").load(target)));
    }

    @Test
    void aFolderIsReadInTheFormatItsFilesAreIn() {
        // weights.bin beside model.onnx is ONNX external data, not a PyTorch file: its first bytes tell.
        Path folder = Fixtures.reference("onnx-mlp-external");
        assertEquals(
                expectedHashes(folder, ""),
                hashes(spark.read().format("tensors").load(folder.toString())));
        Path saved = Fixtures.reference("tf-savedmodel");
        assertEquals(
                expectedHashes(saved, ""),
                hashes(spark.read()
                        .format("tensors")
                        .load(saved.resolve("saved_model").toString())));
    }

    @Test
    void theFileColumnNamesTheFileHoldingTheBytes() {
        Path folder = Fixtures.reference("onnx-mlp-external");
        List<Row> files = spark.read()
                .format("onnx")
                .load(folder.resolve("model.onnx").toString())
                .select("file")
                .distinct()
                .collectAsList();
        assertEquals(1, files.size());
        assertTrue(files.get(0).getString(0).endsWith("weights.bin"), files.toString());
    }
}
