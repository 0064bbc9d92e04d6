package io.sparktensors.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sparktensors.checkpoint.HfIndex;
import io.sparktensors.errors.MalformedTensorFileException;

/** A Hugging Face index: JSON with metadata and weight_map, shard names checked. */
class HfIndexFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void index(byte[] input) {
        try {
            HfIndex.parse("fuzz-index.json", input).shards();
        } catch (MalformedTensorFileException expected) {
            // the one exception for bad input
        }
    }
}
