package io.sparktensors.analysis;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector kernel of {@link TensorStats} (the incubating Vector API, present when the JVM runs with
 * {@code --add-modules=jdk.incubator.vector}, as Spark 4 starts executors): a block of values that floats hold
 * exactly, 8 or 16 at a time (256- or 512-bit vectors, as the processor has), each value widened to double and
 * added to lane {@code i % 8} of each sum, in the order {@link StatsKernel} defines, so both kernels give the
 * same bits. With 256-bit vectors the eight lanes are two vectors of four doubles (values {@code i..i+3} and
 * {@code i+4..i+7}); with 512-bit vectors one vector of eight, which takes values {@code i..i+7} and then
 * {@code i+8..i+15}: either way lane {@code l} adds values {@code l, l+8, l+16, ...} in turn. Loaded only
 * through {@link StatsKernel#vector()}, which falls back to the scalar kernel when the module is absent or the
 * processor's vectors are narrower than 256 bits (where the API would emulate them slowly).
 */
final class VectorStatsKernel {
    /**
     * Whether vectors are 512 bits wide: one vector of doubles holds all eight lanes ({@code
     * -Dsparktensors.kernel.bits=256} keeps 256-bit vectors, to compare).
     */
    private static final boolean WIDE = DoubleVector.SPECIES_PREFERRED.vectorBitSize() >= 512
            && !"256".equals(System.getProperty("sparktensors.kernel.bits"));

    private static final VectorShape SHAPE = WIDE ? VectorShape.S_512_BIT : VectorShape.S_256_BIT;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.withShape(SHAPE);
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED.withShape(SHAPE);
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED.withShape(SHAPE);
    /** BF16 bit patterns, as many as {@link #F} holds floats: half its width. */
    private static final VectorSpecies<Short> S =
            ShortVector.SPECIES_PREFERRED.withShape(WIDE ? VectorShape.S_256_BIT : VectorShape.S_128_BIT);

    private VectorStatsKernel() {}

    static VectorStatsKernel create() {
        if (DoubleVector.SPECIES_PREFERRED.vectorBitSize() < 256) {
            return null;
        }
        return new VectorStatsKernel();
    }

    /** Which vectors the kernel runs on, for benchmarks: "256-bit" or "512-bit". */
    static String width() {
        return SHAPE.vectorBitSize() + "-bit";
    }

    /**
     * Statistics of {@code m} values when every value and sum is finite, else null (as {@link
     * StatsKernel#finiteBlock}, bit for bit): the values are {@code v[0, m)}, or when {@code bf16} is not null
     * the BF16 bit patterns {@code bf16[0, m)}, widened in the registers (no decoded copy is written).
     */
    TensorStats finiteBlock(float[] v, short[] bf16, int m) {
        DoubleVector sumA = DoubleVector.zero(D); // lanes 0-3 (0-7 when wide)
        DoubleVector sumB = sumA; // lanes 4-7 (unused when wide)
        DoubleVector squaresA = sumA;
        DoubleVector squaresB = sumA;
        FloatVector lo = FloatVector.broadcast(F, Float.POSITIVE_INFINITY);
        FloatVector hi = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        IntVector zeros = IntVector.zero(I);
        IntVector one = IntVector.broadcast(I, 1);
        int step = F.length();
        int i = 0;
        for (; i + step <= m; i += step) {
            FloatVector x = load(v, bf16, i);
            lo = lo.blend(x, x.lt(lo));
            hi = hi.blend(x, x.compare(VectorOperators.GT, hi));
            zeros = zeros.add(one, x.eq(0f).cast(I));
            DoubleVector first = (DoubleVector) x.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector second = (DoubleVector) x.convertShape(VectorOperators.F2D, D, 1);
            if (WIDE) {
                sumA = sumA.add(first).add(second);
                squaresA = squaresA.add(first.mul(first)).add(second.mul(second));
            } else {
                sumA = sumA.add(first);
                sumB = sumB.add(second);
                squaresA = squaresA.add(first.mul(first));
                squaresB = squaresB.add(second.mul(second));
            }
        }
        double[] sum = lanes(sumA, sumB);
        double[] squares = lanes(squaresA, squaresB);
        double min = lo.reduceLanes(VectorOperators.MIN);
        double max = hi.reduceLanes(VectorOperators.MAX);
        long zeroCount = zeros.reduceLanes(VectorOperators.ADD);
        for (; i < m; i++) { // i started at a multiple of 8: value i goes to lane i % 8
            double x = value(v, bf16, i);
            sum[i % StatsKernel.LANES] += x;
            squares[i % StatsKernel.LANES] += x * x;
            min = x < min ? x : min;
            max = x > max ? x : max;
            zeroCount += x == 0 ? 1 : 0;
        }
        double total = StatsKernel.combine(sum);
        double totalSquares = StatsKernel.combine(squares);
        if (!StatsKernel.allFinite(total, totalSquares, min, max)) {
            return null;
        }
        double mean = total / m;
        return new TensorStats(
                m, 0, 0, zeroCount, min + 0.0, max + 0.0, mean, deviations(v, bf16, m, mean), totalSquares);
    }

    private static double deviations(float[] v, short[] bf16, int m, double mean) {
        DoubleVector center = DoubleVector.broadcast(D, mean);
        DoubleVector a = DoubleVector.zero(D);
        DoubleVector b = a;
        int step = F.length();
        int i = 0;
        for (; i + step <= m; i += step) {
            FloatVector x = load(v, bf16, i);
            DoubleVector first = ((DoubleVector) x.convertShape(VectorOperators.F2D, D, 0)).sub(center);
            DoubleVector second = ((DoubleVector) x.convertShape(VectorOperators.F2D, D, 1)).sub(center);
            if (WIDE) {
                a = a.add(first.mul(first)).add(second.mul(second));
            } else {
                a = a.add(first.mul(first));
                b = b.add(second.mul(second));
            }
        }
        double[] dev = lanes(a, b);
        for (; i < m; i++) {
            double d = value(v, bf16, i) - mean;
            dev[i % StatsKernel.LANES] += d * d;
        }
        return StatsKernel.combine(dev);
    }

    /** {@link #F}'s worth of values from {@code i}: floats, or BF16 bits shifted into the high half of a float. */
    private static FloatVector load(float[] v, short[] bf16, int i) {
        if (bf16 == null) {
            return FloatVector.fromArray(F, v, i);
        }
        IntVector bits = (IntVector) ShortVector.fromArray(S, bf16, i).convertShape(VectorOperators.S2I, I, 0);
        return bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static float value(float[] v, short[] bf16, int i) {
        return bf16 == null ? v[i] : Float.intBitsToFloat(bf16[i] << 16);
    }

    /** The eight lanes of a sum: one wide vector, or two of four. */
    private static double[] lanes(DoubleVector a, DoubleVector b) {
        double[] out = new double[StatsKernel.LANES];
        a.intoArray(out, 0);
        if (!WIDE) {
            b.intoArray(out, 4);
        }
        return out;
    }
}
