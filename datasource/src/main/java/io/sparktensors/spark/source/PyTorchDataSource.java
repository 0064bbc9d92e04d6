package io.sparktensors.spark.source;

import io.sparktensors.checkpoint.CheckpointFormat;

/**
 * {@code spark.read.format("pytorch")}: {@code torch.save} files ({@code .bin}, {@code .pt}, {@code .pth}),
 * sharded ones with their {@code pytorch_model.bin.index.json}, read by a restricted unpickler, as the
 * tensor table.
 */
public class PyTorchDataSource extends TensorSource {

    @Override
    public String shortName() {
        return CheckpointFormat.PYTORCH.shortName();
    }

    @Override
    protected CheckpointFormat format() {
        return CheckpointFormat.PYTORCH;
    }
}
