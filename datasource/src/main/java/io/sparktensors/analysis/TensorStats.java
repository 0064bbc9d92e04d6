package io.sparktensors.analysis;

import io.sparktensors.format.safetensors.DType;
import java.io.Serializable;

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
public record TensorStats(long count, long nans, long infs, long zeros, double min, double max, double mean,
    double m2, double sumSquares) implements Serializable {

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

  /** Statistics of the tensor bytes {@code data} of {@code dtype}, in one pass, without allocation. */
  public static TensorStats of(byte[] data, DType dtype) {
    int n = TensorValues.count(dtype, data.length);
    long nans = 0;
    long infs = 0;
    long zeros = 0;
    long finite = 0;
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    double mean = 0;
    double m2 = 0;
    double sumSquares = 0;
    boolean wide = dtype == DType.F64 || dtype == DType.I64 || dtype == DType.U64 || dtype == DType.I32
        || dtype == DType.U32;
    for (int i = 0; i < n; i++) {
      double v = wide ? TensorValues.getDouble(data, dtype, i) : TensorValues.getFloat(data, dtype, i);
      if (Double.isNaN(v)) {
        nans++;
        continue;
      }
      if (Double.isInfinite(v)) {
        infs++;
        continue;
      }
      if (v == 0) {
        zeros++;
      }
      min = Math.min(min, v);
      max = Math.max(max, v);
      finite++;
      double delta = v - mean;
      mean += delta / finite;
      m2 += delta * (v - mean);
      sumSquares += v * v;
    }
    return finite == 0
        ? new TensorStats(n, nans, infs, 0, Double.NaN, Double.NaN, 0, 0, 0)
        : new TensorStats(n, nans, infs, zeros, min, max, mean, m2, sumSquares);
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
    return new TensorStats(count + other.count, nans + other.nans, infs + other.infs, zeros + other.zeros,
        minOf(min, other.min), maxOf(max, other.max), mergedMean, mergedM2, sumSquares + other.sumSquares);
  }

  private static double minOf(double a, double b) {
    return Double.isNaN(a) ? b : Double.isNaN(b) ? a : Math.min(a, b);
  }

  private static double maxOf(double a, double b) {
    return Double.isNaN(a) ? b : Double.isNaN(b) ? a : Math.max(a, b);
  }
}
