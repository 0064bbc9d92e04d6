package io.sparktensors.spark;

import io.sparktensors.checkpoint.ShardOutput;
import io.sparktensors.checkpoint.ShardPlan;
import io.sparktensors.format.safetensors.DType;
import io.sparktensors.format.safetensors.TensorEntry;
import io.sparktensors.io.HadoopInputFile;
import io.sparktensors.io.OutputFiles;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * Writes planned shards from byte ranges of existing files, one Spark task per shard: each task streams its
 * tensors' ranges through a fixed-size buffer into one staged shard file (converting dtypes on the fly), so
 * a task's memory stays flat whatever the tensor size. The re-shard job reads the source checkpoint's ranges;
 * the DataFrame writer reads the parts its first stage staged.
 */
final class ShardAssembly {
  /** Bytes a task copies at a time. */
  static final int COPY_BYTES = 4 << 20;

  private ShardAssembly() {}

  /** A run of a tensor's bytes in a file. */
  record Range(String file, long fileLength, long offset, long length) implements Serializable {}

  /** Where an output tensor's bytes come from, in order, and their dtype there. */
  record Source(DType dtype, List<Range> ranges) implements Serializable {
    Source {
      ranges = List.copyOf(ranges);
    }
  }

  /** A shard written completely into staging. */
  record StagedShard(int shard, String path) implements Serializable {}

  /**
   * Runs one task per shard and returns the staged shard files by file name.
   *
   * @param failFirstAttemptAfterBytes test-only fault hook (-1: off)
   */
  static Map<String, Path> run(SparkSession spark, ShardPlan plan, Map<String, Source> sources,
      CheckpointCommitter committer, Configuration conf, long failFirstAttemptAfterBytes) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<ShardPlan> planBroadcast = jsc.broadcast(plan);
    Broadcast<Map<String, Source>> sourceBroadcast = jsc.broadcast(sources);
    SerializableConfiguration serializableConf = new SerializableConfiguration(conf);
    List<Integer> shards = new ArrayList<>();
    for (int i = 0; i < plan.shards().size(); i++) {
      shards.add(i);
    }
    List<StagedShard> staged = jsc.parallelize(shards, Math.max(1, shards.size()))
        .map(i -> writeShard(i, planBroadcast.value(), sourceBroadcast.value(), committer, serializableConf.get(),
            failFirstAttemptAfterBytes))
        .collect();
    Map<String, Path> files = new TreeMap<>();
    for (StagedShard s : staged) {
      files.put(plan.shards().get(s.shard()).fileName(), new Path(s.path()));
    }
    planBroadcast.destroy();
    sourceBroadcast.destroy();
    return files;
  }

  /** One task: streams one shard into this attempt's staging folder. */
  static StagedShard writeShard(int index, ShardPlan plan, Map<String, Source> sources,
      CheckpointCommitter committer, Configuration conf, long failAfter) throws IOException {
    TaskContext task = TaskContext.get();
    String attempt = "shard-" + index + "-" + (task == null ? "driver" : task.taskAttemptId());
    ShardPlan.Shard shard = plan.shards().get(index);
    Path path = new Path(committer.attemptDir(attempt), shard.fileName());
    Map<String, DType> sourceDtypes = new HashMap<>();
    for (TensorEntry t : shard.tensors()) {
      sourceDtypes.put(t.name(), sources.get(t.name()).dtype());
    }
    byte[] buffer = new byte[COPY_BYTES];
    long copied = 0;
    String openFile = null;
    SeekableInput in = null;
    try (OutputStream out = new BufferedOutputStream(OutputFiles.create(path, conf), 1 << 20)) {
      ShardOutput output = new ShardOutput(path.toString(), shard, sourceDtypes, out);
      for (TensorEntry t : shard.tensors()) {
        output.begin(t.name());
        for (Range r : sources.get(t.name()).ranges()) {
          if (!r.file().equals(openFile)) {
            if (in != null) {
              in.close();
            }
            Path file = new Path(r.file());
            in = HadoopInputFile.forData(file.getFileSystem(conf), file, r.fileLength()).open(ReadPolicy.SEQUENTIAL);
            openFile = r.file();
          }
          for (long done = 0; done < r.length(); ) {
            int n = (int) Math.min(buffer.length, r.length() - done);
            in.readFully(r.offset() + done, ByteBuffer.wrap(buffer, 0, n));
            output.append(buffer, 0, n);
            done += n;
            copied += n;
            if (failAfter >= 0 && copied >= failAfter && task != null && task.attemptNumber() == 0) {
              throw new IOException("Injected fault after " + copied + " bytes (test hook)");
            }
          }
        }
      }
      output.finish();
    } finally {
      if (in != null) {
        in.close();
      }
    }
    return new StagedShard(index, path.toString());
  }
}
