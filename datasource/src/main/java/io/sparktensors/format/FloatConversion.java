package io.sparktensors.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Set;

/**
 * Re-encodes little-endian floating-point tensors between F64, F32, F16 and BF16, element by element, with
 * IEEE round-to-nearest-even. NaN stays NaN (quiet, sign kept), infinities stay infinite, values beyond the
 * target's range become infinities of their sign, values below its smallest subnormal become signed zeros.
 * F64 narrows to F16 and BF16 through round-to-odd F32, so it is rounded once, as a direct conversion would.
 * Other dtypes (integers, F8, F6, F4, C64) are never converted.
 */
public final class FloatConversion {
    private static final Set<DType> SOURCES = Set.of(DType.F64, DType.F32, DType.F16, DType.BF16);
    private static final Set<DType> TARGETS = Set.of(DType.F32, DType.F16, DType.BF16);

    private FloatConversion() {}

    /** Whether {@code target} is a dtype tensors can be converted to. */
    public static boolean isTarget(DType target) {
        return TARGETS.contains(target);
    }

    /** The dtype a tensor of {@code source} gets when conversion to {@code requested} is asked (null: none). */
    public static DType outputDtype(DType source, DType requested) {
        return requested != null && SOURCES.contains(source) ? requested : source;
    }

    /**
     * Converts the whole elements in {@code src} (from its position to its limit) into {@code dst}, advancing
     * both. {@code src.remaining()} must be a multiple of the source element size and {@code dst} must have
     * room for the converted elements.
     */
    public static void convert(DType from, DType to, ByteBuffer src, ByteBuffer dst) {
        src.order(ByteOrder.LITTLE_ENDIAN);
        dst.order(ByteOrder.LITTLE_ENDIAN);
        if (from == to) {
            dst.put(src);
            return;
        }
        int elements = src.remaining() / (from.bits() / 8);
        for (int i = 0; i < elements; i++) {
            switch (from) {
                case F64 -> {
                    double d = src.getDouble();
                    switch (to) {
                        case F32 -> dst.putFloat((float) d);
                        case F16 -> dst.putShort((short) f32ToF16(Float.floatToRawIntBits(roundToOdd(d))));
                        case BF16 -> dst.putShort((short) f32ToBf16(Float.floatToRawIntBits(roundToOdd(d))));
                        default -> throw unsupported(from, to);
                    }
                }
                case F32 -> putFromF32(to, src.getInt(), dst);
                case F16 -> putFromF32(to, Float.floatToRawIntBits(f16ToF32(src.getShort() & 0xffff)), dst);
                case BF16 -> putFromF32(to, (src.getShort() & 0xffff) << 16, dst);
                default -> throw unsupported(from, to);
            }
        }
    }

    private static void putFromF32(DType to, int bits, ByteBuffer dst) {
        switch (to) {
            case F32 -> dst.putInt(bits);
            case F16 -> dst.putShort((short) f32ToF16(bits));
            case BF16 -> dst.putShort((short) f32ToBf16(bits));
            default -> throw new IllegalArgumentException("cannot convert to " + to);
        }
    }

    private static IllegalArgumentException unsupported(DType from, DType to) {
        return new IllegalArgumentException("cannot convert " + from + " to " + to);
    }

    /** F32 bits to BF16 bits, round to nearest even. */
    public static int f32ToBf16(int bits) {
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return ((bits >>> 16) | 0x0040) & 0xffff; // NaN: keep sign and payload top, force quiet
        }
        int lsb = (bits >>> 16) & 1;
        return ((bits + 0x7fff + lsb) >>> 16) & 0xffff; // a carry out of the mantissa rounds up the exponent
    }

    /** F32 bits to F16 bits, round to nearest even. */
    public static int f32ToF16(int bits) {
        int sign = (bits >>> 16) & 0x8000;
        int exponent = (bits >>> 23) & 0xff;
        int mantissa = bits & 0x7fffff;
        if (exponent == 0xff) {
            return sign | 0x7c00 | (mantissa != 0 ? 0x200 | (mantissa >>> 13) : 0);
        }
        int e = exponent - 127 + 15;
        if (e >= 0x1f) {
            return sign | 0x7c00;
        }
        if (e <= 0) {
            if (e < -10) {
                return sign; // below half the smallest subnormal
            }
            int m = mantissa | 0x800000;
            int shift = 14 - e; // F16 subnormals count units of 2^-24
            return sign | roundShift(m, shift);
        }
        // The sum may carry from the mantissa into the exponent, and from the largest finite into infinity.
        return sign | roundShift((e << 23) | mantissa, 13);
    }

    /** {@code value >> shift}, rounded to nearest even. */
    private static int roundShift(int value, int shift) {
        int result = value >>> shift;
        int rest = value & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        if (rest > half || (rest == half && (result & 1) != 0)) {
            result++;
        }
        return result;
    }

    /** F16 bits to the float they denote (exact). */
    public static float f16ToF32(int h) {
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            float magnitude = mantissa * 0x1p-24f;
            return sign != 0 ? -magnitude : magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
    }

    /**
     * The float nearest {@code d} toward zero, with its last bit set when inexact ("round to odd"), so a
     * second rounding to a narrower format gives the correctly rounded result.
     */
    static float roundToOdd(double d) {
        float f = (float) d;
        if (Double.isNaN(d) || (double) f == d) {
            return f;
        }
        int bits = Float.floatToRawIntBits(f);
        if (Math.abs((double) f) > Math.abs(d)) {
            bits -= 1; // one step toward zero in magnitude
        }
        return Float.intBitsToFloat(bits | 1);
    }
}
