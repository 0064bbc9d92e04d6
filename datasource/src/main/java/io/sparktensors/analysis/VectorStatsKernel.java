package io.sparktensors.analysis;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector kernel of {@link TensorStats} (the incubating Vector API, present when the JVM runs with
 * {@code --add-modules=jdk.incubator.vector}, as Spark 4 starts executors): a block of values that floats hold
 * exactly, eight at a time, each value widened to double and added to lane {@code i % 8} of each sum, as
 * {@link StatsKernel} defines, so both kernels give the same bits. Loaded only through {@link
 * StatsKernel#vector()}, which falls back to the scalar kernel when the module is absent or the processor's
 * vectors are narrower than 256 bits (where the API would emulate them slowly).
 */
final class VectorStatsKernel {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;

    private VectorStatsKernel() {}

    static VectorStatsKernel create() {
        if (DoubleVector.SPECIES_PREFERRED.vectorBitSize() < 256) {
            return null;
        }
        return new VectorStatsKernel();
    }

    private static final VectorSpecies<Short> S = ShortVector.SPECIES_128;

    /**
     * Statistics of {@code m} values when every value and sum is finite, else null (as {@link
     * StatsKernel#finiteBlock}, bit for bit): the values are {@code v[0, m)}, or when {@code bf16} is not null
     * the BF16 bit patterns {@code bf16[0, m)}, widened in the registers (no decoded copy is written).
     */
    TensorStats finiteBlock(float[] v, short[] bf16, int m) {
        DoubleVector sumLow = DoubleVector.zero(D); // lanes 0-3
        DoubleVector sumHigh = DoubleVector.zero(D); // lanes 4-7
        DoubleVector squaresLow = sumLow;
        DoubleVector squaresHigh = sumLow;
        FloatVector lo = FloatVector.broadcast(F, Float.POSITIVE_INFINITY);
        FloatVector hi = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        IntVector zeros = IntVector.zero(I);
        IntVector one = IntVector.broadcast(I, 1);
        int i = 0;
        for (; i + StatsKernel.LANES <= m; i += StatsKernel.LANES) {
            FloatVector x = load(v, bf16, i);
            lo = lo.blend(x, x.lt(lo));
            hi = hi.blend(x, x.compare(VectorOperators.GT, hi));
            zeros = zeros.add(one, x.eq(0f).cast(I));
            DoubleVector low = (DoubleVector) x.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector high = (DoubleVector) x.convertShape(VectorOperators.F2D, D, 1);
            sumLow = sumLow.add(low);
            sumHigh = sumHigh.add(high);
            squaresLow = squaresLow.add(low.mul(low));
            squaresHigh = squaresHigh.add(high.mul(high));
        }
        double[] sum = lanes(sumLow, sumHigh);
        double[] squares = lanes(squaresLow, squaresHigh);
        double min = lo.reduceLanes(VectorOperators.MIN);
        double max = hi.reduceLanes(VectorOperators.MAX);
        long zeroCount = zeros.reduceLanes(VectorOperators.ADD);
        for (int l = 0; i < m; i++, l++) {
            double x = value(v, bf16, i);
            sum[l] += x;
            squares[l] += x * x;
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
        DoubleVector low = DoubleVector.zero(D);
        DoubleVector high = low;
        int i = 0;
        for (; i + StatsKernel.LANES <= m; i += StatsKernel.LANES) {
            FloatVector x = load(v, bf16, i);
            DoubleVector a = ((DoubleVector) x.convertShape(VectorOperators.F2D, D, 0)).sub(center);
            DoubleVector b = ((DoubleVector) x.convertShape(VectorOperators.F2D, D, 1)).sub(center);
            low = low.add(a.mul(a));
            high = high.add(b.mul(b));
        }
        double[] dev = lanes(low, high);
        for (int l = 0; i < m; i++, l++) {
            double d = value(v, bf16, i) - mean;
            dev[l] += d * d;
        }
        return StatsKernel.combine(dev);
    }

    /** Eight values from {@code i}: floats, or BF16 bits shifted into the high half of a float. */
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

    private static double[] lanes(DoubleVector low, DoubleVector high) {
        double[] out = new double[StatsKernel.LANES];
        low.intoArray(out, 0);
        high.intoArray(out, 4);
        return out;
    }
}
