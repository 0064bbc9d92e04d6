package io.sparktensors.spark.write;

import io.sparktensors.spark.SerializableConfiguration;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.connector.write.BatchWrite;
import org.apache.spark.sql.connector.write.DataWriterFactory;
import org.apache.spark.sql.connector.write.PhysicalWriteInfo;
import org.apache.spark.sql.connector.write.WriterCommitMessage;

/**
 * The first stage of a checkpoint write: tasks stage their rows' bytes in part files. Commit hands the
 * committed tasks' parts (one attempt per task, thanks to the commit coordinator) to the job, which checks
 * them, assembles the shards and publishes; nothing is published here. Abort deletes the staging.
 */
final class CheckpointBatchWrite implements BatchWrite {
    private final CheckpointWriteJob.PendingWrite pending;

    CheckpointBatchWrite(CheckpointWriteJob.PendingWrite pending) {
        this.pending = pending;
    }

    @Override
    public DataWriterFactory createBatchWriterFactory(PhysicalWriteInfo info) {
        return new PartWriterFactory(pending.committer(), new SerializableConfiguration(pending.hadoopConf()));
    }

    @Override
    public boolean useCommitCoordinator() {
        return true; // one attempt per task commits, so a speculative duplicate's part is never used
    }

    @Override
    public void commit(WriterCommitMessage[] messages) {
        List<PartCommitMessage> parts = new ArrayList<>();
        for (WriterCommitMessage m : messages) {
            parts.add((PartCommitMessage) m);
        }
        pending.committedParts().set(parts);
    }

    @Override
    public void abort(WriterCommitMessage[] messages) {
        pending.committer().abort(pending.hadoopConf());
    }
}
