package io.sparktensors.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sparktensors.format.DType;
import io.sparktensors.format.safetensors.HeaderWriter.Spec;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ShardPlannerTest {

    @Test
    void parsesSizesAsHuggingfaceHubAndBinaryUnits() {
        assertEquals(5_000_000_000L, ByteSizes.parse("5GB"));
        assertEquals(1_500_000_000L, ByteSizes.parse("1.5gb"));
        assertEquals(200_000L, ByteSizes.parse("200KB"));
        assertEquals(2L << 30, ByteSizes.parse("2GiB"));
        assertEquals(3L << 20, ByteSizes.parse("3 MiB"));
        assertEquals(12345, ByteSizes.parse("12345"));
        assertEquals(64L << 20, ByteSizes.parse("64m"), "one letter: powers of 1024, as Spark");
        assertEquals(1L << 30, ByteSizes.parse("1g"));
        assertEquals(1_000_000_000L, ByteSizes.parse("1GB"), "two letters: powers of 1000, as huggingface_hub");
        assertEquals(100, ByteSizes.parse("100b"));
        assertThrows(IllegalArgumentException.class, () -> ByteSizes.parse("5 parsecs"));
        assertThrows(IllegalArgumentException.class, () -> ByteSizes.parse("-1GB"));
        assertThrows(IllegalArgumentException.class, () -> ByteSizes.parse("0.0001"), "less than a byte");
        assertThrows(IllegalArgumentException.class, () -> ByteSizes.parse("1e7TB"), "beyond 64 bits");
    }

    @Test
    void oneShardIsNamedWithoutNumbers() {
        ShardPlan plan = ShardPlanner.plan(
                List.of(new Spec("w", DType.F32, new long[] {2})), 100, "model", Map.of("format", "pt"));
        assertEquals(1, plan.shards().size());
        assertEquals("model.safetensors", plan.shards().get(0).fileName());
    }

    @Test
    void indexIsWrittenAsTransformersWritesIt() {
        ShardPlan plan = ShardPlanner.plan(
                List.of(new Spec("b", DType.F32, new long[] {30}), new Spec("a\u00e9", DType.BF16, new long[] {2, 30})),
                130,
                "model",
                null);
        assertEquals("""
        {
          "metadata": {
            "total_parameters": 90,
            "total_size": 240
          },
          "weight_map": {
            "a\\u00e9": "model-00001-of-00002.safetensors",
            "b": "model-00002-of-00002.safetensors"
          }
        }
        """, new String(plan.indexJson(), StandardCharsets.UTF_8));
    }

    @Test
    void duplicateNamesAreRefused() {
        assertThrows(
                IllegalArgumentException.class,
                () -> ShardPlanner.plan(
                        List.of(new Spec("w", DType.F32, new long[] {2}), new Spec("w", DType.F32, new long[] {2})),
                        100,
                        "model",
                        null));
    }
}
