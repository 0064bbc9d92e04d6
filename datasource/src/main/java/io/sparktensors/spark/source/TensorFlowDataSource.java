package io.sparktensors.spark.source;

import io.sparktensors.checkpoint.CheckpointFormat;

/** {@code spark.read.format("tensorflow")}: TensorFlow checkpoints and SavedModels (a SavedModel folder, a {@code variables/variables.index}, a checkpoint's {@code <prefix>.index}), as the tensor table. */
public class TensorFlowDataSource extends TensorSource {

    @Override
    public String shortName() {
        return CheckpointFormat.TENSORFLOW.shortName();
    }

    @Override
    protected CheckpointFormat format() {
        return CheckpointFormat.TENSORFLOW;
    }
}
