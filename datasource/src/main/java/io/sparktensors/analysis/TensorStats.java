package io.sparktensors.analysis;

import io.sparktensors.format.DType;
import java.io.Serializable;
import java.nio.ByteBuffer;

/**
 * Summary statistics of a tensor (or a chunk of one), mergeable exactly: chunks of one tensor merge into the
 * tensor's statistics with the parallel variance formula (Chan, Golub and LeVeque), whatever their order.
 *
 * <p>NaN and infinite values are counted ({@code nans}, {@code infs}) and left out of every other statistic,
 * which are over the {@code finite} values: {@code zeros}, {@code min}, {@code max}, {@code mean},
 * {@code m2} (the sum of squared deviations from the mean), {@code sumSquares}. With no finite value, min
 * and max are NaN; a zero minimum or maximum is {@code +0.0} whatever the sign of the zeros.
 *
 * <p>The order of every floating-point sum is defined (see {@link StatsKernel}), so the same bytes give
 * the same bits on every path: the SQL function, the statistics a scan computes, and the vector and scalar
 * kernels.
 *
 * @param count values (a C64 element counts as two: real and imaginary)
 */
public record TensorStats(
        long count, long nans, long infs, long zeros, double min, double max, double mean, double m2, double sumSquares)
        implements Serializable {

    public static final TensorStats EMPTY = new TensorStats(0, 0, 0, 0, Double.NaN, Double.NaN, 0, 0, 0);

    /** Values that are neither NaN nor infinite. */
    public long finite() {
        return count - nans - infs;
    }

    /** Population standard deviation of the finite values (0 with fewer than one). */
    public double std() {
        long n = finite();
        return n == 0 ? Double.NaN : Math.sqrt(m2 / n);
    }

    /** Euclidean norm of the finite values. */
    public double l2() {
        return Math.sqrt(sumSquares);
    }

    /** Values decoded and summarised at a time: a block stays in the first-level cache for its two passes. */
    static final int BLOCK = 2048;

    /**
     * Statistics of the tensor bytes {@code data} of {@code dtype}. Values are decoded a block at a time into
     * one small buffer and each block is summarised by {@link StatsKernel}; blocks merge exactly like chunks.
     */
    public static TensorStats of(byte[] data, DType dtype) {
        return of(ByteBuffer.wrap(data), dtype);
    }

    /**
     * Statistics of the tensor bytes between {@code data}'s position and limit (little-endian whatever the
     * buffer's order; the buffer's position is left as it was): heap or direct, so a scan summarises the
     * buffers it read into without copying them.
     */
    public static TensorStats of(ByteBuffer data, DType dtype) {
        return of(data, dtype, StatsKernel.vector());
    }

    /**
     * Which kernel summarises float tensors in this JVM: {@code "vector, 256-bit"} or {@code "vector, 512-bit"}
     * (the Vector API module is present, as in executors Spark 4 starts) or {@code "scalar"}; all give the
     * same bits.
     */
    public static String kernel() {
        return StatsKernel.vector() != null ? "vector, " + VectorStatsKernel.width() : "scalar";
    }

    /** As {@link #of(ByteBuffer, DType)}, with the vector kernel given (null: the scalar one alone). */
    static TensorStats of(ByteBuffer data, DType dtype, VectorStatsKernel vector) {
        int n = TensorValues.count(dtype, data.remaining());
        int size = Math.min(BLOCK, Math.max(n, 1));
        BlockDecoder decoder = new BlockDecoder(data, dtype, size);
        double[] doubles = new double[size];
        float[] floats = vector != null && TensorValues.isFloatExact(dtype) ? new float[size] : null;
        TensorStats total = EMPTY;
        for (int start = 0; start < n; start += BLOCK) {
            int m = Math.min(BLOCK, n - start);
            TensorStats block;
            if (floats != null) {
                short[] bf16 = dtype == DType.BF16 ? decoder.bf16Bits(start, m) : null;
                if (bf16 == null) {
                    decoder.floats(start, m, floats);
                }
                block = vector.finiteBlock(floats, bf16, m);
                if (block == null) {
                    decoder.doubles(start, m, doubles);
                    block = StatsKernel.checkedBlock(doubles, m);
                }
            } else {
                decoder.doubles(start, m, doubles);
                block = StatsKernel.block(doubles, m);
            }
            total = total.merge(block);
        }
        return total;
    }

    /** The statistics of this part and {@code other} together. */
    public TensorStats merge(TensorStats other) {
        long na = finite();
        long nb = other.finite();
        long n = na + nb;
        double mergedMean;
        double mergedM2;
        if (na == 0) {
            mergedMean = other.mean;
            mergedM2 = other.m2;
        } else if (nb == 0) {
            mergedMean = mean;
            mergedM2 = m2;
        } else {
            double delta = other.mean - mean;
            mergedMean = mean + delta * nb / n;
            mergedM2 = m2 + other.m2 + delta * delta * ((double) na * nb / n);
        }
        return new TensorStats(
                count + other.count,
                nans + other.nans,
                infs + other.infs,
                zeros + other.zeros,
                minOf(min, other.min),
                maxOf(max, other.max),
                mergedMean,
                mergedM2,
                sumSquares + other.sumSquares);
    }

    private static double minOf(double a, double b) {
        return Double.isNaN(a) ? b : Double.isNaN(b) ? a : Math.min(a, b);
    }

    private static double maxOf(double a, double b) {
        return Double.isNaN(a) ? b : Double.isNaN(b) ? a : Math.max(a, b);
    }
}
