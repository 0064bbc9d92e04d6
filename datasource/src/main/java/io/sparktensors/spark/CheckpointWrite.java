package io.sparktensors.spark;

import org.apache.spark.sql.connector.distributions.Distribution;
import org.apache.spark.sql.connector.distributions.Distributions;
import org.apache.spark.sql.connector.expressions.Expression;
import org.apache.spark.sql.connector.expressions.Expressions;
import org.apache.spark.sql.connector.expressions.SortDirection;
import org.apache.spark.sql.connector.expressions.SortOrder;
import org.apache.spark.sql.connector.write.BatchWrite;
import org.apache.spark.sql.connector.write.RequiresDistributionAndOrdering;
import org.apache.spark.sql.connector.write.Write;

/**
 * A planned checkpoint write. It asks Spark for what its writers need: all rows of a shard in one task
 * (clustered by shard), ordered by shard, position in the shard and chunk, so each writer streams whole
 * shards front to back and holds one chunk at a time.
 */
final class CheckpointWrite implements Write, RequiresDistributionAndOrdering {
  private final CheckpointWriteJob.PendingWrite pending;

  CheckpointWrite(CheckpointWriteJob.PendingWrite pending) {
    this.pending = pending;
  }

  @Override
  public String description() {
    return "safetensors checkpoint " + pending.committer().target() + " (" + pending.plan().shards().size()
        + " shards)";
  }

  @Override
  public Distribution requiredDistribution() {
    return Distributions.clustered(new Expression[] {Expressions.column(CheckpointWriteJob.SHARD)});
  }

  @Override
  public int requiredNumPartitions() {
    return pending.plan().shards().size();
  }

  @Override
  public SortOrder[] requiredOrdering() {
    return new SortOrder[] {
        Expressions.sort(Expressions.column(CheckpointWriteJob.SHARD), SortDirection.ASCENDING),
        Expressions.sort(Expressions.column(CheckpointWriteJob.POSITION), SortDirection.ASCENDING),
        Expressions.sort(Expressions.column(TensorColumns.CHUNK), SortDirection.ASCENDING),
    };
  }

  @Override
  public BatchWrite toBatch() {
    return new CheckpointBatchWrite(pending);
  }
}
