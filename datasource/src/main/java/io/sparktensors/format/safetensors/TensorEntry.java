package io.sparktensors.format.safetensors;

import io.sparktensors.format.DType;
import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor of a safetensors header: name, dtype, shape and its byte range relative to the start of the
 * data buffer (the byte after the header). Validated values only come from {@link HeaderParser}.
 */
public record TensorEntry(String name, DType dtype, long[] shape, long begin, long end)
        implements java.io.Serializable {

    public TensorEntry {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("bad range [" + begin + ", " + end + ") for " + name);
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Length of dimension {@code i} without copying the shape. */
    public long dim(int i) {
        return shape[i];
    }

    public int rank() {
        return shape.length;
    }

    public long byteLength() {
        return end - begin;
    }

    /** Number of elements, or an ArithmeticException on overflow. */
    public long elementCount() {
        return elementCount(shape);
    }

    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorEntry t
                && name.equals(t.name)
                && dtype == t.dtype
                && Arrays.equals(shape, t.shape)
                && begin == t.begin
                && end == t.end;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " [" + begin + ", " + end + ")";
    }
}
