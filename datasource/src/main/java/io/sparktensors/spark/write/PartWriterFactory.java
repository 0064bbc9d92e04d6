package io.sparktensors.spark.write;

import io.sparktensors.spark.SerializableConfiguration;
import io.sparktensors.spark.reshard.CheckpointCommitter;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.write.DataWriter;
import org.apache.spark.sql.connector.write.DataWriterFactory;

/** Creates the first-stage writers of a checkpoint write on executors. */
record PartWriterFactory(CheckpointCommitter committer, SerializableConfiguration hadoopConf)
        implements DataWriterFactory {

    @Override
    public DataWriter<InternalRow> createWriter(int partitionId, long taskId) {
        return new PartDataWriter(this, partitionId, taskId);
    }
}
