package io.sparktensors.spark.write;

import io.sparktensors.spark.reshard.ShardAssembly;
import org.apache.spark.sql.connector.write.BatchWrite;
import org.apache.spark.sql.connector.write.Write;

/**
 * A checkpoint write's first stage. It asks for no distribution or ordering: each task stages the rows it
 * already has, so tensor bytes are never shuffled or sorted; the second stage ({@link ShardAssembly})
 * streams them into shards in order.
 */
final class CheckpointWrite implements Write {
    private final CheckpointWriteJob.PendingWrite pending;

    CheckpointWrite(CheckpointWriteJob.PendingWrite pending) {
        this.pending = pending;
    }

    @Override
    public String description() {
        return "safetensors checkpoint " + pending.committer().target();
    }

    @Override
    public BatchWrite toBatch() {
        return new CheckpointBatchWrite(pending);
    }
}
