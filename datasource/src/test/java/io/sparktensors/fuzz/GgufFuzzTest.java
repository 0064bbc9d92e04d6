package io.sparktensors.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sparktensors.format.gguf.GgufReader;

/** Fuzzes GGUF header, metadata, tensor infos and dequantization. */
class GgufFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void gguf(byte[] input) {
        FuzzContract.check(new GgufReader(true), input);
    }
}
