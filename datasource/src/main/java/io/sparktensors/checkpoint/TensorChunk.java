package io.sparktensors.checkpoint;

import io.sparktensors.format.safetensors.DType;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * One row of a scan: a whole tensor, or a run of whole leading rows of a larger one.
 *
 * @param name tensor name
 * @param dtype element type
 * @param shape the whole tensor's shape
 * @param chunk this chunk's index
 * @param chunkCount chunks of this tensor
 * @param chunkStart first index along dimension 0 covered
 * @param offset absolute byte offset in the file
 * @param length bytes in this chunk (at most {@link ChunkPlanner#MAX_CHUNK_BYTES})
 */
public record TensorChunk(String name, DType dtype, long[] shape, int chunk, int chunkCount, long chunkStart,
    long offset, int length) implements Serializable {

  public TensorChunk {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dtype, "dtype");
    shape = shape.clone();
    if (chunk < 0 || chunk >= chunkCount || chunkStart < 0 || offset < 0 || length < 0) {
      throw new IllegalArgumentException("bad chunk " + chunk + "/" + chunkCount + " of " + name);
    }
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  public long dim(int i) {
    return shape[i];
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorChunk c && name.equals(c.name) && dtype == c.dtype && Arrays.equals(shape, c.shape)
        && chunk == c.chunk && chunkCount == c.chunkCount && chunkStart == c.chunkStart && offset == c.offset
        && length == c.length;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, chunk, offset);
  }

  @Override
  public String toString() {
    return name + "#" + chunk + "/" + chunkCount + "@" + offset + "+" + length;
  }
}
