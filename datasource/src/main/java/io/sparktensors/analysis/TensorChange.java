package io.sparktensors.analysis;

import io.sparktensors.format.DType;

/**
 * How far a tensor moved: the squared Euclidean distance between two tensors (or chunks) of one dtype and
 * shape, over the pairs of values finite in both, so that {@code sqrt(distance) / l2} of the first tensor's
 * {@link TensorStats} is the relative change ||A - B|| / ||A|| a fine-tune made. Values decode as in
 * {@link TensorDiff}.
 */
public final class TensorChange {
    private TensorChange() {}

    /** The sum of (a - b)^2 over the pairs of values finite in both {@code a} and {@code b}, of {@code dtype}. */
    public static double squaredDistance(byte[] a, byte[] b, DType dtype) {
        int n = TensorValues.pairCount(a, b, dtype);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double x = TensorValues.getDouble(a, dtype, i);
            double y = TensorValues.getDouble(b, dtype, i);
            if (Double.isFinite(x) && Double.isFinite(y)) {
                double d = x - y;
                sum += d * d;
            }
        }
        return sum;
    }
}
