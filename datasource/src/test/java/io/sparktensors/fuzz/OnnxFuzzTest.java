package io.sparktensors.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sparktensors.format.onnx.OnnxReader;

/** Fuzzes the ONNX protobuf walk, packed fields and external data. */
class OnnxFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void onnx(byte[] input) {
        FuzzContract.check(new OnnxReader(), input);
    }
}
