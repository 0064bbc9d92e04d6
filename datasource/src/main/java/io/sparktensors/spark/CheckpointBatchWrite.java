package io.sparktensors.spark;

import io.sparktensors.checkpoint.ShardPlan;
import io.sparktensors.io.HadoopInputFile;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.connector.write.BatchWrite;
import org.apache.spark.sql.connector.write.DataWriterFactory;
import org.apache.spark.sql.connector.write.PhysicalWriteInfo;
import org.apache.spark.sql.connector.write.WriterCommitMessage;

/**
 * Commits a checkpoint write: checks that every planned shard was staged exactly once by a committed task,
 * then publishes the shards and, last, the index. Abort deletes the staging.
 */
final class CheckpointBatchWrite implements BatchWrite {
  private final CheckpointWriteJob.PendingWrite pending;

  CheckpointBatchWrite(CheckpointWriteJob.PendingWrite pending) {
    this.pending = pending;
  }

  @Override
  public DataWriterFactory createBatchWriterFactory(PhysicalWriteInfo info) {
    var plan = JavaSparkContext.fromSparkContext(SparkSession.active().sparkContext()).broadcast(pending.plan());
    return new ShardWriterFactory(plan, Map.copyOf(pending.sourceDtypes()), pending.committer(),
        new SerializableConfiguration(pending.hadoopConf()), pending.conf().failAfterBytes(),
        pending.conf().failAlways());
  }

  @Override
  public boolean useCommitCoordinator() {
    return true; // one attempt per task commits, so speculative duplicates never publish twice
  }

  @Override
  public void commit(WriterCommitMessage[] messages) {
    ShardPlan plan = pending.plan();
    Map<Integer, ShardCommitMessage.StagedShard> staged = new HashMap<>();
    for (WriterCommitMessage m : messages) {
      for (ShardCommitMessage.StagedShard s : ((ShardCommitMessage) m).shards()) {
        if (staged.put(s.shard(), s) != null) {
          throw new IllegalStateException("Shard " + plan.shards().get(s.shard()).fileName()
              + " was committed twice; nothing is published.");
        }
      }
    }
    Map<String, Path> shards = new TreeMap<>();
    for (int i = 0; i < plan.shards().size(); i++) {
      ShardCommitMessage.StagedShard s = staged.get(i);
      if (s == null) {
        throw new IllegalStateException("Shard " + plan.shards().get(i).fileName()
            + " was not written by any task; nothing is published.");
      }
      shards.put(plan.shards().get(i).fileName(), new Path(s.path()));
    }
    try {
      Map<String, Path> index = new TreeMap<>();
      if (plan.sharded()) {
        index.put(plan.indexFileName(), writeIndex(plan));
      }
      pending.committer().commit(pending.hadoopConf(), shards, Map.of(), index, pending.overwrite());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot publish the checkpoint at " + pending.committer().target() + ": "
          + e.getMessage(), e);
    }
  }

  private Path writeIndex(ShardPlan plan) throws IOException {
    Path path = new Path(pending.committer().driverDir(), plan.indexFileName());
    FileSystem fs = HadoopInputFile.writableFileSystem(path, pending.hadoopConf());
    try (OutputStream out = fs.create(path, true)) {
      out.write(plan.indexJson());
    }
    return path;
  }

  @Override
  public void abort(WriterCommitMessage[] messages) {
    pending.committer().abort(pending.hadoopConf());
  }
}
