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
 * and max are NaN.
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
    private static final int BLOCK = 2048;

    /**
     * Statistics of the tensor bytes {@code data} of {@code dtype}. Values are decoded a block at a time into
     * one small buffer; each block's finite values are summed, then their squared deviations from the block's
     * mean (two passes over cached values, no division per value), and blocks merge exactly like chunks.
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
        int n = TensorValues.count(dtype, data.remaining());
        double[] block = new double[Math.min(BLOCK, Math.max(n, 1))];
        byte[] scratch = new byte[block.length * 8];
        TensorStats total = EMPTY;
        for (int start = 0; start < n; start += BLOCK) {
            int m = Math.min(BLOCK, n - start);
            TensorValues.decode(data, dtype, start, m, block, scratch);
            total = total.merge(ofBlock(block, m));
        }
        return total;
    }

    private static TensorStats ofBlock(double[] v, int m) {
        long nans = 0;
        long infs = 0;
        long zeros = 0;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double sum = 0;
        double sumSquares = 0;
        for (int i = 0; i < m; i++) {
            double x = v[i];
            if (Double.isFinite(x)) {
                sum += x;
                sumSquares += x * x;
                min = Math.min(min, x);
                max = Math.max(max, x);
                zeros += x == 0 ? 1 : 0;
            } else if (Double.isNaN(x)) {
                nans++;
            } else {
                infs++;
            }
        }
        long finite = m - nans - infs;
        if (finite == 0) {
            return new TensorStats(m, nans, infs, 0, Double.NaN, Double.NaN, 0, 0, 0);
        }
        double mean = sum / finite;
        double m2 = 0;
        for (int i = 0; i < m; i++) {
            double x = v[i];
            if (Double.isFinite(x)) {
                double d = x - mean;
                m2 += d * d;
            }
        }
        return new TensorStats(m, nans, infs, zeros, min, max, mean, m2, sumSquares);
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
