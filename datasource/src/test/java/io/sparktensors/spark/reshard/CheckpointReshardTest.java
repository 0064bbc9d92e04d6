package io.sparktensors.spark.reshard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.checkpoint.ByteSizes;
import io.sparktensors.format.DType;
import io.sparktensors.spark.functions.TensorHashes;
import io.sparktensors.testing.FaultyFileSystem;
import io.sparktensors.testing.Fixtures;
import io.sparktensors.testing.Outputs;
import io.sparktensors.testing.SparkTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@SparkTestBase.Master("local[2,3]")
class CheckpointReshardTest extends SparkTestBase {
    @TempDir
    Path dir;

    private static ReshardOptions shards(String size) {
        return ReshardOptions.defaults().withMaxShardSize(ByteSizes.parse(size));
    }

    private Map<String, String> hashes(Path p) {
        Map<String, String> out = new TreeMap<>();
        for (Row r : TensorHashes.sha256(spark.read().format("safetensors").load(p.toString()))
                .collectAsList()) {
            out.put(r.getString(0), r.getString(1));
        }
        return out;
    }

    @Test
    void matchesTheWriterByteForByteAndCopiesConfigFiles() throws Exception {
        Path src = Fixtures.reference("tiny-llama-sharded");
        Path resharded = dir.resolve("resharded");
        Path written = dir.resolve("written");
        CheckpointReshard.Result result =
                CheckpointReshard.run(spark, src.toString(), resharded.toString(), shards("20KB"));
        spark.read()
                .format("safetensors")
                .load(src.toString())
                .write()
                .format("safetensors")
                .option("maxShardSize", "20KB")
                .save(written.toString());
        Map<String, byte[]> a = Outputs.files(resharded);
        Map<String, byte[]> b = Outputs.files(written);
        assertEquals(8, result.files().size());
        for (String name : b.keySet()) {
            assertArrayEquals(b.get(name), a.get(name), name);
        }
        for (String side : List.of("config.json", "generation_config.json")) {
            assertArrayEquals(Files.readAllBytes(src.resolve(side)), a.get(side), side);
            assertTrue(result.copiedFiles().contains(side));
        }
        assertEquals(hashes(src), hashes(resharded), "inspect --hash agrees for every tensor");
    }

    @Test
    void filtersRenamesAndConvertsOnTheFly() throws Exception {
        Path src = Fixtures.reference("tiny-llama-sharded");
        Path out = dir.resolve("out");
        ReshardOptions options = shards("1GB")
                .withDtype(DType.BF16)
                .withInclude("layers\\.1\\.|embed")
                .withExclude("norm")
                .withRename(ReshardOptions.Rename.parse("^model\\.=base."));
        CheckpointReshard.run(spark, src.toString(), out.toString(), options);
        Map<String, String> before = hashes(src);
        Map<String, Row> after = new TreeMap<>();
        spark.read()
                .format("safetensors")
                .load(out.toString())
                .where("chunk = 0")
                .collectAsList()
                .forEach(r -> after.put(r.getString(0), r));
        assertTrue(after.containsKey("base.embed_tokens.weight"), after.keySet().toString());
        assertTrue(
                after.keySet().stream().allMatch(n -> n.startsWith("base.") && !n.contains("norm")),
                after.keySet().toString());
        assertTrue(
                after.keySet().stream().noneMatch(n -> n.contains("layers.0")),
                after.keySet().toString());
        assertTrue(after.values().stream().allMatch(r -> r.getString(1).equals("BF16")));
        assertFalse(before.isEmpty());
        assertTrue(Files.exists(out.resolve("model.safetensors")));
    }

    @Test
    void aFailedTaskIsRetriedWithIdenticalOutput() throws Exception {
        Path src = Fixtures.reference("tiny-llama-sharded");
        Path clean = dir.resolve("clean");
        Path retried = dir.resolve("retried");
        CheckpointReshard.run(spark, src.toString(), clean.toString(), shards("30KB"));
        Map<String, String> faults = new java.util.HashMap<>(FaultyFileSystem.settings());
        faults.put(FaultyFileSystem.FAIL_AFTER_BYTES, "100");
        long injected = FaultyFileSystem.faultsInjected();
        CheckpointReshard.run(
                spark,
                src.toString(),
                FaultyFileSystem.path(retried),
                shards("30KB").withReadOptions(faults));
        Map<String, byte[]> a = Outputs.files(clean);
        Map<String, byte[]> b = Outputs.files(retried);
        assertTrue(FaultyFileSystem.faultsInjected() > injected, "first attempts failed and were retried");
        assertEquals(a.keySet(), b.keySet());
        a.forEach((k, v) -> assertArrayEquals(v, b.get(k), k));
    }

    @Test
    void reshardsFromAGlobOfShards() throws Exception {
        Path src = Fixtures.reference("tiny-llama-sharded");
        Path out = dir.resolve("from-glob");
        CheckpointReshard.Result r =
                CheckpointReshard.run(spark, src + "/model-*.safetensors", out.toString(), shards("1GB"));
        assertEquals(21, r.tensors());
        assertEquals(List.of(), r.copiedFiles(), "side files come only from a source folder");
        assertEquals(hashes(src), hashes(out));
    }

    @Test
    void refusesAnExistingTargetUnlessOverwriting() throws Exception {
        Path src = Fixtures.reference("tiny-llama-bf16");
        Path out = dir.resolve("out");
        CheckpointReshard.run(spark, src.toString(), out.toString(), shards("5GB"));
        Exception e = assertThrows(
                Exception.class, () -> CheckpointReshard.run(spark, src.toString(), out.toString(), shards("5GB")));
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
        CheckpointReshard.run(
                spark, src.toString(), out.toString(), shards("20KB").withOverwrite(true));
        assertTrue(Files.exists(out.resolve("model.safetensors.index.json")));
        assertFalse(Files.exists(out.resolve("model.safetensors")), "the previous single file is gone");
        assertFalse(Files.exists(out.resolve(CheckpointCommitter.STAGING)));
    }
}
