package io.sparktensors.spark;

import io.sparktensors.checkpoint.ShardOutput;
import io.sparktensors.checkpoint.ShardPlan;
import io.sparktensors.checkpoint.ShardPlanner;
import io.sparktensors.format.FloatConversion;
import io.sparktensors.format.safetensors.DType;
import io.sparktensors.format.safetensors.HeaderWriter;
import io.sparktensors.format.safetensors.TensorEntry;
import io.sparktensors.io.HadoopInputFile;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-shards a safetensors checkpoint without passing tensor bytes through Spark rows or shuffles: the driver
 * plans the output shards from the source headers alone; each task writes one output shard, streaming byte
 * ranges from the source files through a fixed-size buffer (converting dtypes on the fly), so a task's
 * memory stays flat whatever the checkpoint or tensor size. The output is the writer's: the same
 * Hugging Face layout, byte-identical for the same tensors. Small files beside the source (config.json,
 * generation_config.json, tokenizer files) are copied. Staged, then published at once with the index last.
 */
public final class CheckpointReshard {
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointReshard.class);
  /** Bytes a task copies at a time. */
  static final int COPY_BYTES = 4 << 20;
  /** Files beside the source larger than this are not copied (they are not configuration). */
  static final long MAX_SIDE_FILE_BYTES = 64L << 20;

  private CheckpointReshard() {}

  /** What a re-shard wrote. */
  public record Result(String target, List<String> files, int tensors, long bytes, List<String> copiedFiles) {}

  /** Where an output tensor's bytes come from. */
  record Source(String file, long fileLength, long offset, long length, DType dtype) implements Serializable {}

  public static Result run(SparkSession spark, String source, String target, ReshardOptions options) {
    long start = System.nanoTime();
    Map<String, String> readOptions = new HashMap<>(options.readOptions());
    readOptions.put("path", source);
    TensorReadConf readConf = TensorReadConf.parse(new CaseInsensitiveStringMap(readOptions));
    Configuration conf = TensorTable.hadoopConf(spark, options.readOptions());
    try {
      Path targetPath = new Path(target);
      FileSystem targetFs = targetPath.getFileSystem(conf);
      if (!options.overwrite() && targetFs.exists(targetPath)) {
        throw new IllegalArgumentException("Path " + targetFs.makeQualified(targetPath)
            + " already exists. Choose a new target, or overwrite it.");
      }
      Map<String, Source> sources = new HashMap<>();
      List<HeaderWriter.Spec> specs = new ArrayList<>();
      for (CheckpointPlanner.HeaderedFile f : new CheckpointPlanner(readConf, conf).headers()) {
        for (TensorEntry t : f.header().tensors()) {
          String name = options.outputName(t.name());
          if (name == null) {
            continue;
          }
          Source previous = sources.put(name, new Source(f.file().location(), f.file().length(),
              f.header().dataStart() + t.begin(), t.byteLength(), t.dtype()));
          if (previous != null) {
            throw new IllegalArgumentException("Two source tensors become '" + name + "' (in " + previous.file()
                + " and " + f.file().location() + "): names must stay unique after --rename.");
          }
          specs.add(new HeaderWriter.Spec(name, FloatConversion.outputDtype(t.dtype(), options.dtype()), t.shape()));
        }
      }
      TreeMap<String, String> metadata = new TreeMap<>(Map.of("format", "pt"));
      ShardPlan plan = ShardPlanner.plan(specs, options.maxShardSize(), options.filePrefix(), metadata);
      LOG.info("Planned {} output shards of {} tensors ({} bytes) from the headers of {} in {} ms",
          plan.shards().size(), specs.size(), plan.totalSize(), source, (System.nanoTime() - start) / 1_000_000);
      CheckpointCommitter committer = CheckpointCommitter.start(conf, target);
      try {
        return write(spark, source, plan, sources, committer, conf, options);
      } catch (Throwable e) { // Spark may rethrow checked exceptions unchecked
        committer.abort(conf);
        throw e;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot re-shard " + source + " into " + target + ": " + e.getMessage(), e);
    }
  }

  private static Result write(SparkSession spark, String source, ShardPlan plan, Map<String, Source> sources,
      CheckpointCommitter committer, Configuration conf, ReshardOptions options) throws IOException {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<ShardPlan> planBroadcast = jsc.broadcast(plan);
    Broadcast<Map<String, Source>> sourceBroadcast = jsc.broadcast(sources);
    SerializableConfiguration serializableConf = new SerializableConfiguration(conf);
    List<Integer> shards = new ArrayList<>();
    for (int i = 0; i < plan.shards().size(); i++) {
      shards.add(i);
    }
    long failAfter = options.failFirstAttemptAfterBytes();
    long tasksStart = System.nanoTime();
    List<ShardCommitMessage.StagedShard> staged = jsc.parallelize(shards, Math.max(1, shards.size()))
        .map(i -> writeShard(i, planBroadcast.value(), sourceBroadcast.value(), committer,
            serializableConf.get(), failAfter))
        .collect();
    long copied = System.nanoTime();
    Map<String, Path> shardFiles = new TreeMap<>();
    for (ShardCommitMessage.StagedShard s : staged) {
      shardFiles.put(plan.shards().get(s.shard()).fileName(), new Path(s.path()));
    }
    FileSystem fs = HadoopInputFile.writableFileSystem(committer.driverDir(), conf);
    Map<String, Path> extras = copySideFiles(source, plan, committer, conf, fs);
    Map<String, Path> index = new TreeMap<>();
    if (plan.sharded()) {
      Path indexPath = new Path(committer.driverDir(), plan.indexFileName());
      try (OutputStream out = fs.create(indexPath, true)) {
        out.write(plan.indexJson());
      }
      index.put(plan.indexFileName(), indexPath);
    }
    committer.commit(conf, shardFiles, extras, index, options.overwrite());
    LOG.info("Re-shard tasks took {} ms; publishing {} files took {} ms", (copied - tasksStart) / 1_000_000,
        shardFiles.size() + extras.size() + index.size(), (System.nanoTime() - copied) / 1_000_000);
    List<String> files = new ArrayList<>(shardFiles.keySet());
    files.addAll(index.keySet());
    int tensors = plan.shards().stream().mapToInt(s -> s.tensors().size()).sum();
    return new Result(committer.target(), files, tensors, plan.totalSize(), List.copyOf(extras.keySet()));
  }

  /** One task: streams one output shard from the source byte ranges into this attempt's staging. */
  static ShardCommitMessage.StagedShard writeShard(int index, ShardPlan plan, Map<String, Source> sources,
      CheckpointCommitter committer, Configuration conf, long failAfter) throws IOException {
    TaskContext task = TaskContext.get();
    String attempt = "reshard-" + index + "-" + (task == null ? "driver" : task.taskAttemptId());
    ShardPlan.Shard shard = plan.shards().get(index);
    Path path = new Path(committer.attemptDir(attempt), shard.fileName());
    FileSystem fs = HadoopInputFile.writableFileSystem(path, conf);
    Map<String, DType> sourceDtypes = new HashMap<>();
    for (TensorEntry t : shard.tensors()) {
      sourceDtypes.put(t.name(), sources.get(t.name()).dtype());
    }
    byte[] buffer = new byte[COPY_BYTES];
    long copied = 0;
    String openFile = null;
    SeekableInput in = null;
    try (OutputStream out = new BufferedOutputStream(fs.create(path, false), 1 << 20)) {
      ShardOutput output = new ShardOutput(path.toString(), shard, sourceDtypes, out);
      for (TensorEntry t : shard.tensors()) {
        Source src = sources.get(t.name());
        if (!src.file().equals(openFile)) {
          if (in != null) {
            in.close();
          }
          Path srcPath = new Path(src.file());
          in = HadoopInputFile.forData(srcPath.getFileSystem(conf), srcPath, src.fileLength())
              .open(ReadPolicy.SEQUENTIAL);
          openFile = src.file();
        }
        output.begin(t.name());
        for (long done = 0; done < src.length(); ) {
          int n = (int) Math.min(buffer.length, src.length() - done);
          in.readFully(src.offset() + done, ByteBuffer.wrap(buffer, 0, n));
          output.append(buffer, 0, n);
          done += n;
          copied += n;
          if (failAfter >= 0 && copied >= failAfter && task != null && task.attemptNumber() == 0) {
            throw new IOException("Injected fault after " + copied + " bytes (test hook)");
          }
        }
      }
      output.finish();
    } finally {
      if (in != null) {
        in.close();
      }
    }
    return new ShardCommitMessage.StagedShard(index, path.toString(), shard.length());
  }

  /** Copies the small non-tensor files of the source folder (config.json and the like) into staging. */
  private static Map<String, Path> copySideFiles(String source, ShardPlan plan, CheckpointCommitter committer,
      Configuration conf, FileSystem stagingFs) throws IOException {
    Path src = new Path(source);
    FileSystem fs = src.getFileSystem(conf);
    Map<String, Path> copied = new TreeMap<>();
    if (!fs.getFileStatus(src).isDirectory()) {
      return copied;
    }
    for (FileStatus s : fs.listStatus(src)) {
      String name = s.getPath().getName();
      if (!s.isFile() || name.startsWith(".") || name.startsWith("_") || name.endsWith(".safetensors")
          || name.endsWith(".safetensors.index.json") || name.equals(plan.indexFileName())
          || s.getLen() > MAX_SIDE_FILE_BYTES) {
        continue;
      }
      Path dst = new Path(committer.driverDir(), name);
      try (InputStream in = fs.open(s.getPath()); OutputStream out = stagingFs.create(dst, true)) {
        in.transferTo(out);
      }
      copied.put(name, dst);
    }
    return copied;
  }
}
