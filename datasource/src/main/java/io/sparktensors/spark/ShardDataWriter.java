package io.sparktensors.spark;

import io.sparktensors.checkpoint.ShardOutput;
import io.sparktensors.checkpoint.ShardPlan;
import io.sparktensors.format.MalformedTensorFileException;
import io.sparktensors.io.HadoopInputFile;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.write.DataWriter;
import org.apache.spark.sql.connector.write.WriterCommitMessage;

/**
 * Streams the rows of one task, sorted by shard, position and chunk, into whole shard files in this
 * attempt's staging folder. Holds one row at a time: memory is bounded by the chunk size. Input columns:
 * name, chunk, data, shard, position.
 */
final class ShardDataWriter implements DataWriter<InternalRow> {
  private static final int BUFFER_BYTES = 1 << 20;

  private final ShardWriterFactory factory;
  private final ShardPlan plan;
  private final Path attemptDir;
  private final FileSystem fs;
  private final List<ShardCommitMessage.StagedShard> staged = new ArrayList<>();
  private int shard = -1;
  private Path stagedPath;
  private OutputStream stream;
  private ShardOutput output;
  private String tensor;
  private int nextChunk;
  private long bytes;

  ShardDataWriter(ShardWriterFactory factory, int partitionId, long taskId) {
    this.factory = factory;
    this.plan = factory.plan().value();
    this.attemptDir = factory.committer().attemptDir("p" + partitionId + "-t" + taskId);
    try {
      this.fs = HadoopInputFile.writableFileSystem(attemptDir, factory.hadoopConf().get());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public void write(InternalRow row) throws IOException {
    int rowShard = row.getInt(3);
    if (rowShard != shard) {
      finishShard();
      openShard(rowShard);
    }
    String name = row.getUTF8String(0).toString();
    int chunk = row.getInt(1);
    if (!name.equals(tensor)) {
      output.begin(name);
      tensor = name;
      nextChunk = 0;
    }
    if (chunk != nextChunk) {
      throw new MalformedTensorFileException(stagedPath.toString(), name, "chunk " + chunk + " arrived where chunk "
          + nextChunk + " was expected: a chunk is missing or repeated.");
    }
    nextChunk++;
    byte[] data = row.getBinary(2);
    output.append(data, 0, data.length);
    bytes += data.length;
    injectFault();
  }

  private void openShard(int index) throws IOException {
    shard = index;
    ShardPlan.Shard s = plan.shards().get(index);
    stagedPath = new Path(attemptDir, s.fileName());
    stream = new BufferedOutputStream(fs.create(stagedPath, false), BUFFER_BYTES);
    output = new ShardOutput(stagedPath.toString(), s, factory.sourceDtypes(), stream);
    tensor = null;
  }

  private void finishShard() throws IOException {
    if (output == null) {
      return;
    }
    output.finish();
    stream.close();
    stream = null;
    output = null;
    ShardPlan.Shard s = plan.shards().get(shard);
    staged.add(new ShardCommitMessage.StagedShard(shard, stagedPath.toString(), s.length()));
  }

  private void injectFault() throws IOException {
    if (factory.failAfterBytes() >= 0 && bytes >= factory.failAfterBytes()
        && (factory.failAlways() || TaskContext.get() == null || TaskContext.get().attemptNumber() == 0)) {
      throw new IOException("Injected fault after " + bytes + " bytes (test hook)");
    }
  }

  @Override
  public WriterCommitMessage commit() throws IOException {
    finishShard();
    return new ShardCommitMessage(staged);
  }

  @Override
  public void abort() throws IOException {
    close();
    fs.delete(attemptDir, true);
  }

  @Override
  public void close() throws IOException {
    if (stream != null) {
      OutputStream s = stream;
      stream = null;
      s.close();
    }
  }
}
