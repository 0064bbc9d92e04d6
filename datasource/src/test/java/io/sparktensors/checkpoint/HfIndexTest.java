package io.sparktensors.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.errors.MalformedTensorFileException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HfIndexTest {
    private static HfIndex parse(String json) throws MalformedTensorFileException {
        return HfIndex.parse("idx.json", json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void readsMetadataAndWeightMap() throws Exception {
        HfIndex index = parse("{\"metadata\":{\"total_size\":24,\"x\":{\"y\":1}},\"weight_map\":"
                + "{\"b\":\"model-00002-of-00002.safetensors\",\"a\":\"model-00001-of-00002.safetensors\"}}");
        assertEquals("24", index.metadata().get("total_size"));
        assertEquals(List.of("a", "b"), List.copyOf(index.weightMap().keySet()));
        assertEquals(2, index.shards().size());
    }

    @Test
    void refusesShardsOutsideTheFolder() {
        for (String shard : List.of("../x.safetensors", "/etc/passwd", "sub/x.safetensors", "..", "c:x", "a\\\\b")) {
            MalformedTensorFileException e = assertThrows(
                    MalformedTensorFileException.class,
                    () -> parse("{\"weight_map\":{\"t\":\"" + shard + "\"}}"),
                    shard);
            assertTrue(e.getMessage().contains("not a plain file name"), e.getMessage());
        }
    }

    @Test
    void refusesMalformedIndexes() {
        assertThrows(MalformedTensorFileException.class, () -> parse("[]"));
        assertThrows(MalformedTensorFileException.class, () -> parse("{\"metadata\":{}}"));
        assertThrows(MalformedTensorFileException.class, () -> parse("{\"weight_map\":{\"t\":1}}"));
        assertThrows(MalformedTensorFileException.class, () -> parse("{\"weight_map\":"));
        assertThrows(
                MalformedTensorFileException.class,
                () -> parse("{\"weight_map\":{\"t\":\"a.safetensors\",\"t\":\"b.safetensors\"}}"));
        assertThrows(
                MalformedTensorFileException.class,
                () -> parse("{\"weight_map\":{\"t\":\"a.safetensors\"},\"weight_map\":{\"u\":\"b.safetensors\"}}"));
    }

    @Test
    void verifyNamesTheMissingShardAndTensor() throws Exception {
        HfIndex index = parse("{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\"}}");
        MalformedTensorFileException e = assertThrows(
                MalformedTensorFileException.class,
                () -> index.verify(Map.of("s1.safetensors", Set.of("a")), Set.of()));
        assertTrue(e.getMessage().contains("s2.safetensors") && e.getMessage().contains("'b'"), e.getMessage());
        // Skipped on purpose (ignoreMissingFiles): no error.
        assertEquals(List.of(), index.verify(Map.of("s1.safetensors", Set.of("a")), Set.of("s2.safetensors")));
    }

    @Test
    void verifyNamesATensorTheShardLacksAndReportsUnlistedOnes() throws Exception {
        HfIndex index = parse("{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s1.safetensors\"}}");
        MalformedTensorFileException e = assertThrows(
                MalformedTensorFileException.class,
                () -> index.verify(Map.of("s1.safetensors", Set.of("a", "c")), Set.of()));
        assertTrue(e.getMessage().contains("'b'") && e.getMessage().contains("no such tensor"), e.getMessage());
        assertEquals(
                List.of("s1.safetensors: c"), index.verify(Map.of("s1.safetensors", Set.of("a", "b", "c")), Set.of()));
    }
}
