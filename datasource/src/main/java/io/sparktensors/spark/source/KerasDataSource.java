package io.sparktensors.spark.source;

import io.sparktensors.checkpoint.CheckpointFormat;

/** {@code spark.read.format("keras")}: Keras HDF5 weights ({@code .h5} models and weights, Keras 3 {@code .weights.h5}), as the tensor table. */
public class KerasDataSource extends TensorSource {

    @Override
    public String shortName() {
        return CheckpointFormat.KERAS.shortName();
    }

    @Override
    protected CheckpointFormat format() {
        return CheckpointFormat.KERAS;
    }
}
