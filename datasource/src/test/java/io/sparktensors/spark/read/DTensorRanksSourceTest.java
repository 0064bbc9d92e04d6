package io.sparktensors.spark.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.spark.reshard.CheckpointReshard;
import io.sparktensors.spark.reshard.ReshardOptions;
import io.sparktensors.testing.Fixtures;
import io.sparktensors.testing.SparkSessions;
import io.sparktensors.testing.SparkTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Per-rank DTensor pickles torch wrote (golden/dtensor/make_dtensor_ranks.py), as verl and SkyRL save them,
 * through Spark: {@code format("pytorch")} and {@code format("tensors")} on the folder read the full tensors,
 * also in chunks of a few bytes; the re-shard job turns them into Hugging Face safetensors with the config and
 * tokenizer of {@code huggingface/}.
 */
class DTensorRanksSourceTest extends SparkTestBase {
    @TempDir
    Path dir;

    private static Path golden(String folder) {
        return Fixtures.golden("dtensor", folder);
    }

    @ParameterizedTest
    @ValueSource(strings = {"fsdp-2", "fsdp-4", "tp-2x2", "strided-2x2"})
    void pytorchAndTensorsSourcesReadEveryFullTensor(String folder) throws Exception {
        String src = golden(folder).toString();
        Map<String, String> expected = Fixtures.dtensorHashes(folder);
        assertEquals(
                expected,
                SparkSessions.tensorHashes(spark.read().format("pytorch").load(src)),
                "pytorch");
        // Chunks of 8 bytes: the decoder starts mid-tensor and reads rows from several rank files.
        assertEquals(
                expected,
                SparkSessions.tensorHashes(spark.read()
                        .format("tensors")
                        .option("maxChunkBytes", "8")
                        .load(src)),
                "tensors source, small chunks");
    }

    @Test
    void rowsAreTheFullTensorsAndAFileAloneItsLocalShards() throws Exception {
        List<Row> rows = spark.read()
                .format("pytorch")
                .load(golden("tp-2x2").toString())
                .where("chunk = 0")
                .select("name", "dtype", "shape", "file")
                .collectAsList();
        Map<String, String> got = new TreeMap<>();
        rows.forEach(r -> got.put(r.getString(0), r.getString(1) + r.getList(2)));
        assertEquals(
                Map.of(
                        "embed.weight", "F32[7, 4]",
                        "up.weight", "F16[5, 4]",
                        "up.bias", "F16[5]",
                        "down.weight", "BF16[3, 5]",
                        "down.bias", "BF16[3]",
                        "positions", "I64[2, 3]"),
                got);
        assertTrue(rows.stream().allMatch(r -> r.getString(3).endsWith("model_world_size_4_rank_0.pt")));
        Row local = spark.read()
                .format("pytorch")
                .load(golden("tp-2x2").resolve("model_world_size_4_rank_3.pt").toString())
                .where("name = 'down.weight'")
                .select("shape")
                .first();
        assertEquals(List.of(1L, 2L), local.getList(0), "rank 3's block of the 3 x 5 weight");
    }

    @Test
    void aMissingRankFileIsAClearError() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("three-of-four"));
        for (int r = 0; r < 3; r++) {
            String name = "model_world_size_4_rank_" + r + ".pt";
            Files.copy(golden("fsdp-4").resolve(name), folder.resolve(name));
        }
        Exception e = assertThrows(
                Exception.class,
                () -> spark.read().format("pytorch").load(folder.toString()).count());
        assertTrue(String.valueOf(e.getMessage()).contains("model_world_size_4_rank_3.pt is missing"), e.getMessage());
    }

    @Test
    void reshardConvertsToHuggingFaceSafetensorsWithTheConfig() throws Exception {
        for (String folder : List.of("fsdp-2", "tp-2x2")) {
            Path target = dir.resolve("hf-" + folder);
            CheckpointReshard.Result r = CheckpointReshard.run(
                    spark,
                    golden(folder).toString(),
                    target.toString(),
                    ReshardOptions.defaults().withMaxShardSize(64));
            assertEquals(
                    Fixtures.dtensorHashes(folder),
                    SparkSessions.tensorHashes(
                            spark.read().format("safetensors").load(target.toString())),
                    folder);
            assertEquals(6, r.tensors());
            assertTrue(
                    r.files().contains("model.safetensors.index.json"),
                    r.files().toString());
            if (folder.equals("fsdp-2")) {
                assertEquals(List.of("config.json", "tokenizer_config.json"), r.copiedFiles());
                assertEquals(
                        Files.readString(golden(folder).resolve("huggingface/config.json")),
                        Files.readString(target.resolve("config.json")));
            } else {
                assertEquals(List.of(), r.copiedFiles(), "rank files are not side files");
            }
        }
    }
}
