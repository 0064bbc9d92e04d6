package io.sparktensors.spark;

import io.sparktensors.checkpoint.FileSlice;
import io.sparktensors.checkpoint.ReadSplit;
import io.sparktensors.checkpoint.TensorChunk;
import io.sparktensors.format.MalformedTensorFileException;
import io.sparktensors.io.HadoopInputFile;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads one split into Arrow batches. Tensor bytes go from the file straight into the batch's Arrow data
 * buffer; each file is read front to back and only when the data column is wanted. A batch never spans two
 * files, is bounded in rows and bytes, and holds at least one chunk.
 */
final class TensorPartitionReader implements PartitionReader<ColumnarBatch> {
  private static final Logger LOG = LoggerFactory.getLogger(TensorPartitionReader.class);

  private final List<FileSlice> slices;
  private final TensorReadContext context;
  private final BufferAllocator allocator;
  private int slice;
  private int next; // next chunk of the current slice
  private SeekableInput input;
  private final TensorVectors vectors;
  private ColumnarBatch batch;
  private long bytesRead;
  private long chunksRead;
  private long filesOpened;

  TensorPartitionReader(ReadSplit split, TensorReadContext context) {
    this.slices = split.slices();
    this.context = context;
    this.allocator = Allocators.newChild("spark-tensors-reader");
    this.vectors = new TensorVectors(context.requiredSchema(), allocator);
  }

  @Override
  public boolean next() throws IOException {
    batch = null;
    while (slice < slices.size()) {
      FileSlice s = slices.get(slice);
      if (next >= s.chunks().size()) {
        nextSlice();
        continue;
      }
      int end = batchEnd(s.chunks(), next);
      try {
        batch = read(s, next, end);
        next = end;
        return true;
      } catch (FileNotFoundException e) {
        if (!context.ignoreMissingFiles()) {
          throw e;
        }
        LOG.warn("Skipping the rest of missing file {} (ignoreMissingFiles): {}", s.file().location(), e.toString());
        nextSlice();
      } catch (IOException | RuntimeException e) {
        if (!context.ignoreCorruptFiles()) {
          throw e instanceof MalformedTensorFileException || e instanceof java.io.EOFException
              ? (IOException) e
              : new IOException("Cannot read tensor data from '" + s.file().location() + "': " + e, e);
        }
        LOG.warn("Skipping the rest of corrupt file {} (ignoreCorruptFiles): {}", s.file().location(), e.toString());
        nextSlice();
      }
    }
    return false;
  }

  /** The end of the batch starting at {@code from}: bounded by rows and by bytes, at least one chunk. */
  private int batchEnd(List<TensorChunk> chunks, int from) {
    boolean data = context.requiredSchema().getFieldIndex(TensorColumns.DATA).isDefined();
    long bytes = 0;
    int end = from;
    while (end < chunks.size() && end - from < context.batchRows()) {
      long len = data ? chunks.get(end).length() : 0;
      if (end > from && bytes + len > context.batchBytes()) {
        break;
      }
      bytes += len;
      end++;
    }
    return end;
  }

  private ColumnarBatch read(FileSlice s, int from, int to) throws IOException {
    int rows = to - from;
    int[] lengths = new int[rows];
    for (int i = 0; i < rows; i++) {
      lengths[i] = s.chunks().get(from + i).length();
    }
    vectors.start(rows, lengths);
    byte[] fileBytes = s.file().location().getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < rows; i++) {
      TensorChunk c = s.chunks().get(from + i);
      vectors.setRow(i, s.file(), fileBytes, c);
      if (vectors.readsData()) {
        input(s).readFully(c.offset(), vectors.dataTarget(i, c.length()));
        bytesRead += c.length();
      }
    }
    chunksRead += rows;
    return vectors.finish(rows);
  }

  private SeekableInput input(FileSlice s) throws IOException {
    if (input == null) {
      Path path = new Path(s.file().location());
      input = HadoopInputFile.forData(path.getFileSystem(context.configuration()), path, s.file().length())
          .open(ReadPolicy.SEQUENTIAL);
      filesOpened++;
    }
    return input;
  }

  private void nextSlice() throws IOException {
    closeInput();
    slice++;
    next = 0;
  }

  private void closeInput() throws IOException {
    if (input != null) {
      SeekableInput in = input;
      input = null;
      in.close();
    }
  }

  @Override
  public ColumnarBatch get() {
    return batch;
  }

  @Override
  public CustomTaskMetric[] currentMetricsValues() {
    return new CustomTaskMetric[] {
        TensorScanMetrics.value(TensorScanMetrics.TENSOR_BYTES, bytesRead),
        TensorScanMetrics.value(TensorScanMetrics.CHUNKS, chunksRead),
        TensorScanMetrics.value(TensorScanMetrics.FILES_OPENED, filesOpened),
    };
  }

  @Override
  public void close() throws IOException {
    batch = null;
    try {
      closeInput();
    } finally {
      vectors.close();
      allocator.close();
    }
  }
}
