package io.sparktensors.checkpoint;

import io.sparktensors.format.MalformedTensorFileException;
import io.sparktensors.format.safetensors.TensorEntry;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits tensors larger than {@code maxChunkBytes} along dimension 0, so each chunk holds whole leading rows
 * (and whole bytes, for sub-byte dtypes). A chunk is one Spark binary value, so it can never exceed
 * {@link #MAX_CHUNK_BYTES}.
 */
public final class ChunkPlanner {
  /** The largest binary value Spark and Arrow hold, with room for their bookkeeping. */
  public static final long MAX_CHUNK_BYTES = Integer.MAX_VALUE - 1024;

  private ChunkPlanner() {}

  /**
   * The chunks of {@code t}, which lives in {@code file} with its data starting at {@code dataStart}.
   *
   * @throws MalformedTensorFileException when one leading row alone is too large for a Spark value
   */
  public static List<TensorChunk> chunks(String file, TensorEntry t, long dataStart, long maxChunkBytes)
      throws MalformedTensorFileException {
    if (maxChunkBytes <= 0 || maxChunkBytes > MAX_CHUNK_BYTES) {
      throw new IllegalArgumentException("maxChunkBytes must be in [1, " + MAX_CHUNK_BYTES + "]");
    }
    long length = t.byteLength();
    long offset = Math.addExact(dataStart, t.begin());
    if (length <= maxChunkBytes || t.rank() == 0 || t.dim(0) <= 1) {
      if (length > MAX_CHUNK_BYTES) {
        throw tooLarge(file, t, length);
      }
      return List.of(new TensorChunk(t.name(), t.dtype(), t.shape(), 0, 1, 0, offset, (int) length));
    }
    long rows = t.dim(0);
    long rowBits = Math.multiplyExact(length, 8L) / rows; // exact: length * 8 == rows * row elements * bits
    long step = 8 / gcd(rowBits, 8); // the fewest rows that fill whole bytes
    long perChunk = Math.max(step, (maxChunkBytes * 8 / rowBits) / step * step);
    long chunkBytes = perChunk * rowBits / 8;
    if (chunkBytes > MAX_CHUNK_BYTES) {
      throw tooLarge(file, t, chunkBytes);
    }
    long count = (rows + perChunk - 1) / perChunk;
    if (count > Integer.MAX_VALUE) {
      throw new MalformedTensorFileException(file, t.name(), "the tensor would need " + count
          + " chunks; raise maxChunkBytes");
    }
    List<TensorChunk> out = new ArrayList<>((int) count);
    long[] shape = t.shape();
    for (int i = 0; i < count; i++) {
      long start = i * perChunk;
      long n = Math.min(perChunk, rows - start);
      long bytes = n * rowBits / 8;
      out.add(new TensorChunk(t.name(), t.dtype(), shape, i, (int) count, start, offset + start * rowBits / 8,
          (int) bytes));
    }
    return out;
  }

  private static MalformedTensorFileException tooLarge(String file, TensorEntry t, long bytes) {
    return new MalformedTensorFileException(file, t.name(), "one chunk of this tensor would need " + bytes
        + " bytes, more than the " + MAX_CHUNK_BYTES + " a Spark binary value holds: a single leading row is "
        + "that large. Read it without the data column, or with the re-shard job, which streams it.");
  }

  private static long gcd(long a, long b) {
    while (b != 0) {
      long r = a % b;
      a = b;
      b = r;
    }
    return a;
  }
}
