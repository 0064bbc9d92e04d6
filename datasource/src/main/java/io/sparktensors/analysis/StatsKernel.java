package io.sparktensors.analysis;

/**
 * The scalar kernel of {@link TensorStats}: one block of decoded values summarised, and the choice of the
 * vector kernel ({@link VectorStatsKernel}) when the JVM has the Vector API.
 *
 * <p>The order of summation is defined so that both kernels give the same bits: value {@code i} of a block
 * goes to lane {@code i % 8} of each sum (of the values, of their squares, and of their squared deviations
 * from the block's mean), and the lanes add up as {@code ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7))}.
 * Eight independent sums also let the processor overlap additions a single running sum would serialise.
 * Minimum and maximum compare values numerically and report a zero as {@code +0.0}, so they too are the
 * same whatever order the values are visited in.
 */
final class StatsKernel {
    /** Partial sums per statistic; values go round-robin to the lanes. */
    static final int LANES = 8;

    /** The system property that turns the vector kernel off ({@code -Dsparktensors.kernel=scalar}). */
    static final String KERNEL_PROPERTY = "sparktensors.kernel";

    private StatsKernel() {}

    /** The vector kernel, or null when the JVM lacks the Vector API (or has it switched off). */
    static VectorStatsKernel vector() {
        return VectorHolder.KERNEL;
    }

    private static final class VectorHolder {
        static final VectorStatsKernel KERNEL = load();

        private static VectorStatsKernel load() {
            if ("scalar".equals(System.getProperty(KERNEL_PROPERTY))
                    || ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
                return null;
            }
            try {
                return VectorStatsKernel.create();
            } catch (LinkageError | RuntimeException e) {
                return null; // an incompatible Vector API: the scalar kernel gives the same bits
            }
        }
    }

    /** Statistics of {@code v[0, m)}. */
    static TensorStats block(double[] v, int m) {
        TensorStats s = finiteBlock(v, m);
        return s != null ? s : checkedBlock(v, m);
    }

    /**
     * Statistics of {@code v[0, m)} when every value and every sum is finite, else null (then {@link
     * #checkedBlock}, which sets NaN and infinities aside, gives the same bits on all-finite blocks).
     */
    static TensorStats finiteBlock(double[] v, int m) {
        double[] sum = new double[LANES];
        double[] squares = new double[LANES];
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        long zeros = 0;
        int i = 0;
        for (; i + LANES <= m; i += LANES) {
            for (int l = 0; l < LANES; l++) {
                double x = v[i + l];
                sum[l] += x;
                squares[l] += x * x;
                lo = x < lo ? x : lo;
                hi = x > hi ? x : hi;
                zeros += x == 0 ? 1 : 0;
            }
        }
        for (int l = 0; i < m; i++, l++) {
            double x = v[i];
            sum[l] += x;
            squares[l] += x * x;
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
            zeros += x == 0 ? 1 : 0;
        }
        double total = combine(sum);
        double totalSquares = combine(squares);
        if (!allFinite(total, totalSquares, lo, hi)) {
            return null;
        }
        double mean = total / m;
        return new TensorStats(m, 0, 0, zeros, lo + 0.0, hi + 0.0, mean, deviations(v, m, mean), totalSquares);
    }

    /**
     * Whether a block's first pass saw finite values only: a NaN makes the sum NaN, an infinity makes the
     * sum or an extreme infinite (as does a sum beyond double's range, which the checked loop then handles).
     */
    static boolean allFinite(double sum, double squares, double lo, double hi) {
        return Double.isFinite(sum) && Double.isFinite(squares) && Double.isFinite(lo) && Double.isFinite(hi);
    }

    private static double deviations(double[] v, int m, double mean) {
        double[] dev = new double[LANES];
        int i = 0;
        for (; i + LANES <= m; i += LANES) {
            for (int l = 0; l < LANES; l++) {
                double d = v[i + l] - mean;
                dev[l] += d * d;
            }
        }
        for (int l = 0; i < m; i++, l++) {
            double d = v[i] - mean;
            dev[l] += d * d;
        }
        return combine(dev);
    }

    /** Statistics of {@code v[0, m)} value by value, NaN and infinities counted apart; lanes as above. */
    static TensorStats checkedBlock(double[] v, int m) {
        long nans = 0;
        long infs = 0;
        long zeros = 0;
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        double[] sum = new double[LANES];
        double[] squares = new double[LANES];
        for (int i = 0; i < m; i++) {
            double x = v[i];
            if (Double.isFinite(x)) {
                sum[i % LANES] += x;
                squares[i % LANES] += x * x;
                lo = x < lo ? x : lo;
                hi = x > hi ? x : hi;
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
        double mean = combine(sum) / finite;
        double[] dev = new double[LANES];
        for (int i = 0; i < m; i++) {
            double x = v[i];
            if (Double.isFinite(x)) {
                double d = x - mean;
                dev[i % LANES] += d * d;
            }
        }
        return new TensorStats(m, nans, infs, zeros, lo + 0.0, hi + 0.0, mean, combine(dev), combine(squares));
    }

    /** The lanes' sum in the defined order. */
    static double combine(double[] l) {
        return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
    }
}
