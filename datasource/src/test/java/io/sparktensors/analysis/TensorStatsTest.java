package io.sparktensors.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.format.DType;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TensorStatsTest {
    private static final int[] SIZES = {0, 1, 7, 8, 9, 2047, 2048, 2049, 5 * 2048 + 13};

    @Test
    void theVectorKernelIsThereWhereTestsRun() {
        // the build runs tests with --add-modules=jdk.incubator.vector, as Spark 4 starts executors: without it
        // the comparisons below would compare the scalar kernel with itself
        assertNotNull(StatsKernel.vector(), "the Vector API kernel did not load");
    }

    /** The vector and the scalar kernels give the same bits, on every dtype, whatever the values. */
    @ParameterizedTest
    @EnumSource(
            value = DType.class,
            mode = EnumSource.Mode.EXCLUDE,
            names = {"F4", "F6_E2M3", "F6_E3M2"})
    void vectorAndScalarKernelsAgreeBitForBit(DType dtype) {
        VectorStatsKernel vector = StatsKernel.vector();
        int size = dtype == DType.C64 ? 4 : dtype.bits() / 8;
        Random random = new Random(dtype.ordinal());
        for (int n : SIZES) {
            for (String shape : new String[] {"moderate", "random bits", "specials"}) {
                byte[] data = values(random, dtype, n, size, shape);
                TensorStats scalar = TensorStats.of(ByteBuffer.wrap(data), dtype, null);
                TensorStats vectorized = TensorStats.of(ByteBuffer.wrap(data), dtype, vector);
                assertEquals(scalar, vectorized, dtype + ", " + n + " values, " + shape);
                ByteBuffer direct = ByteBuffer.allocateDirect(data.length + 3).order(ByteOrder.BIG_ENDIAN);
                direct.position(3);
                direct.put(data).position(3);
                assertEquals(scalar, TensorStats.of(direct, dtype), dtype + " from a direct buffer at an offset");
                assertEquals(3, direct.position(), "the buffer's position is left as it was");
            }
        }
    }

    @Test
    void statisticsMatchExactArithmetic() {
        Random random = new Random(7);
        float[] values = new float[3 * 2048 + 5];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * 3 + 1);
        }
        values[10] = 0f;
        values[11] = -0f;
        ByteBuffer data = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        data.asFloatBuffer().put(values);
        TensorStats s = TensorStats.of(data.array(), DType.F32);
        BigDecimal sum = BigDecimal.ZERO;
        BigDecimal squares = BigDecimal.ZERO;
        for (float v : values) {
            sum = sum.add(new BigDecimal(v));
            squares = squares.add(new BigDecimal(v).multiply(new BigDecimal(v)));
        }
        BigDecimal mean = sum.divide(BigDecimal.valueOf(values.length), MathContext.DECIMAL128);
        BigDecimal m2 = BigDecimal.ZERO;
        for (float v : values) {
            BigDecimal d = new BigDecimal(v).subtract(mean);
            m2 = m2.add(d.multiply(d));
        }
        assertEquals(values.length, s.count());
        assertEquals(2, s.zeros());
        float[] sorted = values.clone();
        Arrays.sort(sorted);
        assertEquals(sorted[0], s.min());
        assertEquals(sorted[sorted.length - 1], s.max());
        assertEquals(mean.doubleValue(), s.mean(), Math.abs(mean.doubleValue()) * 1e-13);
        assertEquals(m2.doubleValue(), s.m2(), m2.doubleValue() * 1e-13);
        assertEquals(squares.doubleValue(), s.sumSquares(), squares.doubleValue() * 1e-13);
    }

    @Test
    void nonFiniteValuesAreCountedApartAndZerosArePositive() {
        float[] values = {1f, Float.NaN, -0f, Float.POSITIVE_INFINITY, 3f, Float.NEGATIVE_INFINITY, -2f};
        ByteBuffer data = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        data.asFloatBuffer().put(values);
        TensorStats s = TensorStats.of(data.array(), DType.F32);
        assertEquals(new TensorStats(7, 1, 2, 1, -2, 3, 0.5, 13, 14), s);
        ByteBuffer zeros = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        zeros.asFloatBuffer().put(new float[] {-0f, -0f});
        TensorStats z = TensorStats.of(zeros.array(), DType.F32);
        assertEquals(0.0, z.min()); // +0.0: assertEquals(double, double) tells the zeros apart
        assertEquals(0.0, z.max());
        assertTrue(Double.isNaN(
                        TensorStats.of(new byte[8], DType.F32).merge(nanOnly()).std())
                == false);
    }

    private static TensorStats nanOnly() {
        return TensorStats.of(ByteBuffer.allocate(4).putFloat(0, Float.NaN).array(), DType.F32);
    }

    /** Values of {@code dtype}: moderate floats, any bits at all, or a mix with NaN, infinities and zeros. */
    private static byte[] values(Random random, DType dtype, int n, int size, String shape) {
        byte[] data = new byte[n * size];
        random.nextBytes(data);
        if (shape.equals("random bits")) {
            return data;
        }
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            float f = (float) random.nextGaussian();
            if (shape.equals("specials")) {
                int pick = random.nextInt(12);
                f = pick == 0 ? Float.NaN : pick == 1 ? Float.POSITIVE_INFINITY : pick == 2 ? -0f : pick == 3 ? 0f : f;
            }
            switch (dtype) {
                case F32, C64 -> b.putFloat(i * size, f);
                case BF16 -> b.putShort(i * size, (short) (Float.floatToRawIntBits(f) >>> 16));
                case F64 -> b.putDouble(i * size, f);
                default -> {} // integers and 8-bit floats: every bit pattern is a value worth testing
            }
        }
        return data;
    }
}
