package io.sparktensors.checkpoint;

import io.sparktensors.format.DType;
import io.sparktensors.format.TensorDecoder;
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
 * @param offset absolute byte offset in the file (for a decoded tensor: where its stored bytes start)
 * @param length bytes in this chunk (at most {@link ChunkPlanner#MAX_CHUNK_BYTES})
 * @param decoder how to decode the stored bytes, or null when the chunk is the plain run at {@code offset}
 */
public record TensorChunk(
        String name,
        DType dtype,
        long[] shape,
        int chunk,
        int chunkCount,
        long chunkStart,
        long offset,
        int length,
        TensorDecoder decoder)
        implements Serializable {

    /** A plain chunk: the bytes at {@code offset} as they are. */
    public TensorChunk(
            String name,
            DType dtype,
            long[] shape,
            int chunk,
            int chunkCount,
            long chunkStart,
            long offset,
            int length) {
        this(name, dtype, shape, chunk, chunkCount, chunkStart, offset, length, null);
    }

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

    /** Rows along dimension 0 this chunk holds (1 for a 0-d tensor). */
    public long rows() {
        if (shape.length == 0) {
            return 1;
        }
        long rowElements = 1;
        for (int i = 1; i < shape.length; i++) {
            rowElements = Math.multiplyExact(rowElements, shape[i]);
        }
        long rowBytes = dtype.byteSize(rowElements);
        return rowBytes <= 0 ? (chunkCount == 1 ? shape[0] : 0) : length / rowBytes;
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorChunk c
                && name.equals(c.name)
                && dtype == c.dtype
                && Arrays.equals(shape, c.shape)
                && chunk == c.chunk
                && chunkCount == c.chunkCount
                && chunkStart == c.chunkStart
                && offset == c.offset
                && length == c.length
                && Objects.equals(decoder, c.decoder);
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
