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
 * DCP checkpoints torch wrote (golden/dcp/make_dcp.py) through Spark: {@code format("dcp")} and
 * {@code format("tensors")} read each tensor whole, assembled from its rank files, also in chunks of a few
 * bytes; the re-shard job and the DataFrame writer turn them into Hugging Face safetensors.
 */
class DcpSourceTest extends SparkTestBase {
    @TempDir
    Path dir;

    private static Path golden(String folder) {
        return Fixtures.golden("dcp", folder);
    }

    private static Map<String, String> expected(String checkpoint) {
        return Fixtures.dcpHashes(checkpoint);
    }

    @ParameterizedTest
    @ValueSource(strings = {"two-ranks", "four-ranks", "one-rank", "strided-ranks"})
    void dcpAndTensorsSourcesReadEveryFullTensor(String checkpoint) throws Exception {
        String src = golden(checkpoint).toString();
        Map<String, String> expected = expected(checkpoint);
        assertEquals(
                expected, SparkSessions.tensorHashes(spark.read().format("dcp").load(src)), "dcp source");
        // Chunks of 16 bytes: the decoder starts mid-tensor and reads rows from both rank files.
        assertEquals(
                expected,
                SparkSessions.tensorHashes(spark.read()
                        .format("tensors")
                        .option("maxChunkBytes", "16")
                        .load(src)),
                "tensors source, small chunks");
    }

    @Test
    void dcpHuggingFaceStoragePiecesReadAndConvertAsFullTensors() throws Exception {
        // HuggingFaceStorageWriter(save_distributed=True): safetensors files of pieces, placed by their metadata.
        String src = golden("hf-storage").toString();
        Map<String, String> expected = expected("hf-storage");
        assertEquals(
                expected,
                SparkSessions.tensorHashes(spark.read().format("safetensors").load(src)));
        assertEquals(
                expected,
                SparkSessions.tensorHashes(spark.read()
                        .format("tensors")
                        .option("maxChunkBytes", "16")
                        .load(src)),
                "tensors source, small chunks");
        Path dst = dir.resolve("hf-storage-converted");
        CheckpointReshard.run(
                spark, src, dst.toString(), ReshardOptions.defaults().withMaxShardSize(256));
        assertEquals(
                expected,
                SparkSessions.tensorHashes(spark.read().format("safetensors").load(dst.toString())));
    }

    @Test
    void namesDtypesAndShapesAreTheFullTensors() throws Exception {
        List<Row> rows = spark.read()
                .format("dcp")
                .load(golden("two-ranks").toString())
                .where("chunk = 0")
                .select("name", "dtype", "shape")
                .collectAsList();
        Map<String, String> got = new TreeMap<>();
        rows.forEach(r -> got.put(r.getString(0), r.getString(1) + r.getList(2)));
        assertEquals("F16[4, 6]", got.get("model.layers.0.attn.q.weight"));
        assertEquals("I64[2, 7]", got.get("model.positions"));
        assertEquals("F32[]", got.get("model.scale"));
        assertEquals("F32[6, 4]", got.get("optim.state.w.exp_avg"));
        assertEquals(8, got.size(), "bytes items are skipped");
    }

    @Test
    void theMetadataFileItselfReadsAsTheCheckpoint() throws Exception {
        String metadata = golden("two-ranks").resolve(".metadata").toString();
        assertEquals(
                expected("two-ranks"),
                SparkSessions.tensorHashes(spark.read().format("tensors").load(metadata)));
    }

    @Test
    void aFolderWithoutMetadataIsNotADcpCheckpoint() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("ranks-only"));
        Files.copy(golden("two-ranks").resolve("__0_0.distcp"), folder.resolve("__0_0.distcp"));
        Exception e = assertThrows(
                Exception.class,
                () -> spark.read().format("dcp").load(folder.toString()).count());
        assertTrue(String.valueOf(e.getMessage()).contains("no checkpoint file of the format dcp"), e.getMessage());
    }

    @Test
    void reshardConvertsTheTwoRankCheckpointToHuggingFaceSafetensors() throws Exception {
        Path target = dir.resolve("hf");
        CheckpointReshard.Result r = CheckpointReshard.run(
                spark,
                golden("two-ranks").toString(),
                target.toString(),
                ReshardOptions.defaults().withMaxShardSize(256));
        assertEquals(
                expected("two-ranks"),
                SparkSessions.tensorHashes(spark.read().format("safetensors").load(target.toString())));
        assertEquals(8, r.tensors());
        assertTrue(r.files().contains("model.safetensors.index.json"), r.files().toString());
        assertEquals(List.of(), r.copiedFiles(), "rank files and .metadata are not side files");
        // Strided local shards (transposed, channels_last) convert as well.
        Path strided = dir.resolve("hf-strided");
        CheckpointReshard.run(
                spark,
                golden("strided-ranks").toString(),
                strided.toString(),
                ReshardOptions.defaults().withMaxShardSize(256));
        assertEquals(
                expected("strided-ranks"),
                SparkSessions.tensorHashes(spark.read().format("safetensors").load(strided.toString())));
    }

    @Test
    void theDataFrameWriterConvertsItToo() throws Exception {
        Path target = dir.resolve("written");
        spark.read()
                .format("dcp")
                .load(golden("four-ranks").toString())
                .write()
                .format("safetensors")
                .save(target.toString());
        assertEquals(
                expected("four-ranks"),
                SparkSessions.tensorHashes(spark.read().format("safetensors").load(target.toString())));
    }
}
