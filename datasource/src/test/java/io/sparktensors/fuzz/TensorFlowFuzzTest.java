package io.sparktensors.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sparktensors.format.tensorflow.TensorFlowReader;

/** Fuzzes the TF table, bundle protobufs and the object graph. */
class TensorFlowFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void tensorflow(byte[] input) {
        FuzzContract.check(new TensorFlowReader(), input, "fuzz.index");
    }
}
