package io.sparktensors.spark.source;

import io.sparktensors.checkpoint.CheckpointFormat;

/** {@code spark.read.format("gguf")}: GGUF files (quantized Q8_0 and Q4_0 tensors with the option {@code dequantize}), as the tensor table. */
public class GgufDataSource extends TensorSource {

    @Override
    public String shortName() {
        return CheckpointFormat.GGUF.shortName();
    }

    @Override
    protected CheckpointFormat format() {
        return CheckpointFormat.GGUF;
    }
}
