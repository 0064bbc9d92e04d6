package io.sparktensors.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Conversions checked against an independent oracle: every finite value of the narrow format, decoded,
 * sorted, and searched for the nearest neighbour with ties to the even encoding.
 */
class FloatConversionTest {

    /** All finite non-negative values of a 16-bit format, by encoding. */
    private static double[] decodeAll(boolean bf16) {
        double[] values = new double[0x8000];
        for (int h = 0; h < 0x8000; h++) {
            values[h] = bf16 ? Float.intBitsToFloat(h << 16) : FloatConversion.f16ToF32(h);
        }
        return values;
    }

    /** The correctly rounded encoding of {@code x} (round to nearest, ties to even; overflow to infinity). */
    private static int oracle(double[] values, int infinity, double x) {
        int sign = x < 0 || (x == 0 && 1 / x < 0) ? 0x8000 : 0;
        double a = Math.abs(x);
        double maxFinite = values[infinity - 1];
        // Beyond max + half an ulp of the top binade rounds to infinity.
        double halfUlp = (values[infinity - 1] - values[infinity - 2]) / 2;
        if (a > maxFinite + halfUlp || (a == maxFinite + halfUlp && ((infinity - 1) & 1) == 1)) {
            return sign | infinity;
        }
        int lo = 0;
        int hi = infinity - 1;
        while (lo < hi) { // first encoding whose value >= a
            int mid = (lo + hi) >>> 1;
            if (values[mid] < a) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if (lo == 0 || values[lo] == a) {
            return sign | lo;
        }
        double below = a - values[lo - 1];
        double above = values[lo] - a;
        int pick = below < above ? lo - 1 : above < below ? lo : ((lo & 1) == 0 ? lo : lo - 1);
        return sign | pick;
    }

    @Test
    void f32ToF16AndBf16RoundToNearestEven() {
        double[] f16 = decodeAll(false);
        double[] bf16 = decodeAll(true);
        Random random = new Random(11);
        for (int i = 0; i < 300_000; i++) {
            float x = Float.intBitsToFloat(random.nextInt());
            if (Float.isNaN(x)) {
                continue;
            }
            int bits = Float.floatToRawIntBits(x);
            assertEquals(oracle(f16, 0x7c00, x), FloatConversion.f32ToF16(bits), () -> "F16 of " + x);
            assertEquals(oracle(bf16, 0x7f80, x), FloatConversion.f32ToBf16(bits), () -> "BF16 of " + x);
        }
        // Values near F16's range and precision, where random bits rarely land.
        for (int i = 0; i < 300_000; i++) {
            float x = (float) ((random.nextDouble() - 0.5) * Math.pow(2, random.nextInt(50) - 30));
            assertEquals(
                    oracle(f16, 0x7c00, x), FloatConversion.f32ToF16(Float.floatToRawIntBits(x)), () -> "F16 of " + x);
        }
    }

    @Test
    void everyF16AndBf16ValueSurvivesARoundTripThroughF32() {
        for (int h = 0; h < 0x10000; h++) {
            float f = FloatConversion.f16ToF32(h);
            int back = FloatConversion.f32ToF16(Float.floatToRawIntBits(f));
            if (Float.isNaN(f)) {
                assertEquals(0x7c00, back & 0x7c00);
                assertTrue((back & 0x3ff) != 0, "NaN stays NaN");
                assertEquals(h & 0x8000, back & 0x8000, "sign kept");
            } else {
                assertEquals(h, back, "F16 " + Integer.toHexString(h));
            }
            int bf = FloatConversion.f32ToBf16(h << 16);
            assertEquals(
                    Float.isNaN(Float.intBitsToFloat(h << 16)) ? (h | 0x40) : h, bf, "BF16 " + Integer.toHexString(h));
        }
    }

    @Test
    void f64NarrowsWithASingleRounding() {
        double[] f16 = decodeAll(false);
        double[] bf16 = decodeAll(true);
        Random random = new Random(5);
        for (int i = 0; i < 200_000; i++) {
            double x = (random.nextDouble() - 0.5) * Math.pow(2, random.nextInt(60) - 30);
            if (i % 3 == 0) { // just above a tie of the narrow format, where a double rounding would go wrong
                float near = (float) x;
                x = near + Math.ulp(near) * 0.5 + Math.ulp(x);
            }
            assertEquals(oracle(f16, 0x7c00, x), convert(DType.F64, DType.F16, x), "F16 of " + x);
            assertEquals(oracle(bf16, 0x7f80, x), convert(DType.F64, DType.BF16, x), "BF16 of " + x);
        }
    }

    private static int convert(DType from, DType to, double x) {
        ByteBuffer src = ByteBuffer.allocate(8)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putDouble(x)
                .flip();
        ByteBuffer dst = ByteBuffer.allocate(2);
        FloatConversion.convert(from, to, src, dst);
        return dst.flip().order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xffff;
    }

    @Test
    void specialValues() {
        assertEquals(0x7c00, FloatConversion.f32ToF16(Float.floatToRawIntBits(Float.POSITIVE_INFINITY)));
        assertEquals(0xfc00, FloatConversion.f32ToF16(Float.floatToRawIntBits(-70000f)), "overflow to -inf");
        assertEquals(0x8000, FloatConversion.f32ToF16(Float.floatToRawIntBits(-1e-10f)), "underflow to -0");
        assertEquals(0x7f80, FloatConversion.f32ToBf16(Float.floatToRawIntBits(Float.MAX_VALUE)), "rounds up to inf");
        assertTrue(
                Float.isNaN(Float.intBitsToFloat(FloatConversion.f32ToBf16(0x7f800001) << 16)),
                "signalling NaN stays NaN");
        assertEquals(DType.BF16, FloatConversion.outputDtype(DType.F32, DType.BF16));
        assertEquals(DType.I64, FloatConversion.outputDtype(DType.I64, DType.BF16));
        assertEquals(DType.F8_E4M3, FloatConversion.outputDtype(DType.F8_E4M3, DType.BF16));
        assertTrue(Arrays.asList(DType.F32, DType.F16, DType.BF16).stream().allMatch(FloatConversion::isTarget));
    }
}
