package io.sparktensors.spark.source;

import io.sparktensors.checkpoint.CheckpointFormat;

/** {@code spark.read.format("onnx")}: ONNX models' initializers and Constant tensors, external data included, as the tensor table. */
public class OnnxDataSource extends TensorSource {

    @Override
    public String shortName() {
        return CheckpointFormat.ONNX.shortName();
    }

    @Override
    protected CheckpointFormat format() {
        return CheckpointFormat.ONNX;
    }
}
