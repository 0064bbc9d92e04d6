package io.sparktensors.checkpoint;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.errors.TensorErrors;
import io.sparktensors.format.DType;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorData;
import io.sparktensors.format.TensorDecoder;
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
        return chunks(
                file,
                t.name(),
                t.dtype(),
                t.shape(),
                Math.addExact(dataStart, t.begin()),
                t.byteLength(),
                null,
                maxChunkBytes);
    }

    /**
     * The chunks of a tensor any format reader listed. A decoded tensor whose decoder cannot start mid-tensor
     * is one chunk.
     */
    public static List<TensorChunk> chunks(StoredTensor t, long maxChunkBytes) throws MalformedTensorFileException {
        TensorData d = t.data();
        if (d.decoder() != null && !d.decoder().splittable()) {
            checkDecodedWhole(t, maxChunkBytes);
            return List.of(new TensorChunk(
                    t.name(), t.dtype(), t.shape(), 0, 1, 0, d.offset(), (int) d.length(), d.decoder()));
        }
        return chunks(d.location(), t.name(), t.dtype(), t.shape(), d.offset(), d.length(), d.decoder(), maxChunkBytes);
    }

    /**
     * A tensor whose decoder cannot start mid-tensor is decoded whole, in memory: refused when larger than one
     * chunk may be, so no executor holds more than {@code maxChunkBytes} for it.
     */
    public static void checkDecodedWhole(StoredTensor t, long maxChunkBytes) throws MalformedTensorFileException {
        TensorData d = t.data();
        if (d.decoder() != null && !d.decoder().splittable() && d.length() > maxChunkBytes) {
            throw new MalformedTensorFileException(
                    d.location(),
                    t.name(),
                    "the tensor is stored so that it can only be "
                            + "decoded whole (" + d.length() + " bytes), more than maxChunkBytes (" + maxChunkBytes
                            + "). If the "
                            + "file is trusted, raise the read option maxChunkBytes (up to " + MAX_CHUNK_BYTES + ").");
        }
    }

    private static List<TensorChunk> chunks(
            String file,
            String name,
            DType dtype,
            long[] shape,
            long offset,
            long length,
            TensorDecoder decoder,
            long maxChunkBytes)
            throws MalformedTensorFileException {
        if (maxChunkBytes <= 0 || maxChunkBytes > MAX_CHUNK_BYTES) {
            throw TensorErrors.badOption(
                    "maxChunkBytes", Long.toString(maxChunkBytes), "it must lie between 1 and " + MAX_CHUNK_BYTES);
        }
        if (length <= maxChunkBytes || shape.length == 0 || shape[0] <= 1) {
            if (length > MAX_CHUNK_BYTES) {
                throw tooLarge(file, name, length);
            }
            return List.of(new TensorChunk(name, dtype, shape, 0, 1, 0, offset, (int) length, decoder));
        }
        long rows = shape[0];
        long rowBits = Math.multiplyExact(length, 8L) / rows; // exact: length * 8 == rows * row elements * bits
        long step = 8 / gcd(rowBits, 8); // the fewest rows that fill whole bytes
        long perChunk = Math.max(step, (maxChunkBytes * 8 / rowBits) / step * step);
        long chunkBytes = perChunk * rowBits / 8;
        if (chunkBytes > MAX_CHUNK_BYTES) {
            throw tooLarge(file, name, chunkBytes);
        }
        long count = (rows + perChunk - 1) / perChunk;
        if (count > Integer.MAX_VALUE) {
            throw new MalformedTensorFileException(
                    file, name, "the tensor would need " + count + " chunks; raise maxChunkBytes");
        }
        List<TensorChunk> out = new ArrayList<>((int) count);
        for (int i = 0; i < count; i++) {
            long start = i * perChunk;
            long n = Math.min(perChunk, rows - start);
            long bytes = n * rowBits / 8;
            // A decoded chunk keeps the tensor's stored offset: the decoder finds its rows from chunkStart.
            long at = decoder == null ? offset + start * rowBits / 8 : offset;
            out.add(new TensorChunk(name, dtype, shape, i, (int) count, start, at, (int) bytes, decoder));
        }
        return out;
    }

    private static MalformedTensorFileException tooLarge(String file, String name, long bytes) {
        return new MalformedTensorFileException(
                file,
                name,
                "one chunk of this tensor would need " + bytes
                        + " bytes, more than the " + MAX_CHUNK_BYTES
                        + " a Spark binary value holds: a single leading row is "
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
