package io.sparktensors.analysis;

import io.sparktensors.format.DType;
import java.io.Serializable;

/**
 * How two tensors (or two chunks) of one dtype and shape differ, value by value.
 *
 * @param count values compared
 * @param differing values that are not equal (NaN equals NaN here; 0 equals -0; 64-bit integers exactly)
 * @param maxAbs largest |a - b| over pairs where both are finite
 * @param maxRel largest |a - b| / max(|a|, |b|) over finite pairs not both zero
 * @param mse mean of (a - b)^2 over finite pairs (0 when there are none)
 * @param nonFinite pairs where a value is NaN or infinite in one tensor only, or infinite of two signs
 */
public record TensorDiff(long count, long differing, double maxAbs, double maxRel, double mse, long nonFinite)
        implements Serializable {

    /** Compares {@code a} and {@code b}, both of {@code dtype}. */
    public static TensorDiff of(byte[] a, byte[] b, DType dtype) {
        int n = TensorValues.pairCount(a, b, dtype);
        long differing = 0;
        long finitePairs = 0;
        long nonFinite = 0;
        double maxAbs = 0;
        double maxRel = 0;
        double sumSq = 0;
        boolean wideInts = dtype == DType.I64 || dtype == DType.U64;
        for (int i = 0; i < n; i++) {
            double x = TensorValues.getDouble(a, dtype, i);
            double y = TensorValues.getDouble(b, dtype, i);
            // 64-bit integers beyond 2^53 round as doubles: they are compared by their bits.
            boolean same = wideInts
                    ? TensorValues.getRawLong(a, i) == TensorValues.getRawLong(b, i)
                    : x == y || (Double.isNaN(x) && Double.isNaN(y));
            if (!same) {
                differing++;
            }
            if (Double.isFinite(x) && Double.isFinite(y)) {
                double d = Math.abs(x - y);
                finitePairs++;
                sumSq += d * d;
                maxAbs = Math.max(maxAbs, d);
                double scale = Math.max(Math.abs(x), Math.abs(y));
                if (scale > 0) {
                    maxRel = Math.max(maxRel, d / scale);
                }
            } else if (!same) {
                nonFinite++;
            }
        }
        return new TensorDiff(n, differing, maxAbs, maxRel, finitePairs == 0 ? 0 : sumSq / finitePairs, nonFinite);
    }
}
