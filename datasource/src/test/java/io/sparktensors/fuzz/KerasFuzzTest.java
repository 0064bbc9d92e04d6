package io.sparktensors.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sparktensors.format.keras.KerasReader;

/** Fuzzes HDF5 through jHDF, Keras layouts. */
class KerasFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void keras(byte[] input) {
        FuzzContract.check(new KerasReader(), input);
    }
}
