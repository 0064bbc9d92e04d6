package io.sparktensors.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sparktensors.format.safetensors.SafetensorsReader;

/** The safetensors header: length prefix, JSON, every validation rule. */
class SafetensorsHeaderFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void header(byte[] input) {
        FuzzContract.check(new SafetensorsReader(), input);
    }
}
