package io.sparktensors.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparktensors.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code spark-tensors reshard} end to end, checked with {@code inspect --hash}. */
class ReshardCommandTest {
    @TempDir
    Path dir;

    @Test
    void reshardsTheBundledCheckpointAndInspectHashesAgree() throws Exception {
        Path out = dir.resolve("resharded");
        String report =
                Harness.cli("reshard", DemoCheckpoint.path().toString(), out.toString(), "--max-shard-size", "100KB");
        assertTrue(report.contains("wrote 39 tensors"), report);
        assertTrue(Files.exists(out.resolve("model.safetensors.index.json")));
        assertArrayEquals(
                Files.readAllBytes(DemoCheckpoint.path().resolve("config.json")),
                Files.readAllBytes(out.resolve("config.json")));
        JsonNode tensors = new ObjectMapper()
                .readTree(Harness.cli("inspect", out.toString(), "--json", "--hash"))
                .get("tensors");
        Map<String, Fixtures.Expected> expected = DemoCheckpoint.expected();
        assertEquals(expected.size(), tensors.size());
        expected.forEach((name, e) ->
                assertEquals(e.sha256(), tensors.get(name).get("sha256").asText(), name));
    }

    @Test
    void convertsAndRenamesFromTheCommandLine() throws Exception {
        Path out = dir.resolve("f32");
        Harness.cli(
                "reshard",
                DemoCheckpoint.path().toString(),
                out.toString(),
                "--dtype",
                "F32",
                "--include",
                "layers\\.0\\.",
                "--rename",
                "^model\\.layers\\.0\\.=block.");
        JsonNode tensors = new ObjectMapper()
                .readTree(Harness.cli("inspect", out.toString(), "--json"))
                .get("tensors");
        assertEquals(9, tensors.size());
        tensors.fields().forEachRemaining(e -> {
            assertTrue(e.getKey().startsWith("block."), e.getKey());
            assertEquals("F32", e.getValue().get("dtype").asText());
        });
    }
}
