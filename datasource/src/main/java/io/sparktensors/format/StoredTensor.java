package io.sparktensors.format;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor as a format reader found it: its name, dtype and shape, and where its bytes are. Whatever the
 * format, the bytes the data describes are the safetensors encoding: row-major, contiguous, little-endian.
 */
public record StoredTensor(String name, DType dtype, long[] shape, TensorData data) implements Serializable {

    public StoredTensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(data, "data");
        shape = shape.clone();
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

    /** Number of elements, or an ArithmeticException on overflow. */
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Rows along dimension 0 (1 for a 0-d tensor). */
    public long rows() {
        return shape.length == 0 ? 1 : shape[0];
    }

    /**
     * Reads rows {@code [rowStart, rowStart + rowCount)} in the safetensors encoding into {@code out}, which has
     * exactly their bytes remaining: a plain run as it is, anything else through the decoder.
     *
     * @param in the open file named by {@link TensorData#location()}
     */
    public void readRows(io.sparktensors.io.SeekableInput in, long rowStart, long rowCount, java.nio.ByteBuffer out)
            throws java.io.IOException {
        readRows(in, null, rowStart, rowCount, out);
    }

    /**
     * As {@link #readRows(io.sparktensors.io.SeekableInput, long, long, java.nio.ByteBuffer)}, for a decoder that
     * reads other files besides {@code in}'s (a DCP tensor's rank files) and opens them through {@code files}.
     */
    public void readRows(
            io.sparktensors.io.SeekableInput in,
            TensorDecoder.Files files,
            long rowStart,
            long rowCount,
            java.nio.ByteBuffer out)
            throws java.io.IOException {
        if (data.isPlain()) {
            long rowBytes = rows() == 0 ? 0 : data.length() / rows();
            in.readFully(data.offset() + rowStart * rowBytes, out);
        } else {
            data.decoder().decode(in, files, rowStart, rowCount, out);
        }
    }

    /** The same tensor under another name. */
    public StoredTensor withName(String newName) {
        return new StoredTensor(newName, dtype, shape, data);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StoredTensor t
                && name.equals(t.name)
                && dtype == t.dtype
                && Arrays.equals(shape, t.shape)
                && data.equals(t.data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), data);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " " + data;
    }
}
