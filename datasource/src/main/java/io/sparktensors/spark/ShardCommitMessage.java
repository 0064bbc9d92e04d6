package io.sparktensors.spark;

import java.util.List;
import org.apache.spark.sql.connector.write.WriterCommitMessage;

/** What one committed task staged: for each shard it wrote, its index in the plan and staged path. */
record ShardCommitMessage(List<StagedShard> shards) implements WriterCommitMessage {

  ShardCommitMessage {
    shards = List.copyOf(shards);
  }

  /** A shard file written completely into staging. */
  record StagedShard(int shard, String path, long bytes) implements java.io.Serializable {}
}
