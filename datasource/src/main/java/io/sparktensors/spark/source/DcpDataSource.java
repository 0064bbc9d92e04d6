package io.sparktensors.spark.source;

import io.sparktensors.checkpoint.CheckpointFormat;

/**
 * {@code spark.read.format("dcp")}: {@code torch.distributed.checkpoint} folders (FSDP, torchtitan,
 * Megatron-Core, NeMo 2), each tensor read whole, assembled from the chunks its rank files hold, as the
 * tensor table.
 */
public class DcpDataSource extends TensorSource {

    @Override
    public String shortName() {
        return CheckpointFormat.DCP.shortName();
    }

    @Override
    protected CheckpointFormat format() {
        return CheckpointFormat.DCP;
    }
}
