package io.sparktensors.spark.source;

import io.sparktensors.checkpoint.CheckpointFormat;

/**
 * {@code spark.read.format("tensors")}: checkpoints of any supported format, each file read as its name
 * says ({@code .safetensors}, {@code .bin}/{@code .pt}/{@code .pth}, ...), or all as the {@code format}
 * option says.
 */
public class TensorsDataSource extends TensorSource {
    public static final String SHORT_NAME = "tensors";

    @Override
    public String shortName() {
        return SHORT_NAME;
    }

    @Override
    protected CheckpointFormat format() {
        return null;
    }
}
