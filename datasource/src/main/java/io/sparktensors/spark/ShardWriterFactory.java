package io.sparktensors.spark;

import io.sparktensors.checkpoint.ShardPlan;
import io.sparktensors.format.safetensors.DType;
import java.util.Map;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.write.DataWriter;
import org.apache.spark.sql.connector.write.DataWriterFactory;

/** Creates shard writers on executors; the plan travels as a broadcast. */
record ShardWriterFactory(Broadcast<ShardPlan> plan, Map<String, DType> sourceDtypes, CheckpointCommitter committer,
    SerializableConfiguration hadoopConf, long failAfterBytes, boolean failAlways) implements DataWriterFactory {

  @Override
  public DataWriter<InternalRow> createWriter(int partitionId, long taskId) {
    return new ShardDataWriter(this, partitionId, taskId);
  }
}
