package io.sparktensors.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sparktensors.format.pytorch.PyTorchReader;

/** Fuzzes torch.save files: zip directory, legacy layout, the restricted unpickler, storage views. */
class PyTorchFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void pytorch(byte[] input) {
        FuzzContract.check(new PyTorchReader(), input);
    }
}
