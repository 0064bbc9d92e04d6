package io.sparktensors.analysis;

import io.sparktensors.errors.TensorErrors;
import io.sparktensors.format.DType;
import io.sparktensors.format.FloatConversion;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Decodes tensor bytes (the safetensors encoding: little-endian, row-major) into numbers. As doubles, every
 * dtype's values are exact except 64-bit integers beyond 2^53 (rounded to the nearest double); as floats,
 * every dtype but F64 and the 32- and 64-bit integers. Loops read the byte array in place, with no boxing and
 * no allocation per element.
 */
public final class TensorValues {
    private static final VarHandle I16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final float[] F8_E4M3 = f8Table(4, 3, 7, false, true);
    private static final float[] F8_E5M2 = f8Table(5, 2, 15, true, false);
    private static final float[] F8_E4M3FNUZ = f8Table(4, 3, 8, false, false);
    private static final float[] F8_E5M2FNUZ = f8Table(5, 2, 16, false, false);
    private static final float[] F8_E8M0 = e8m0Table();
    private static final float[] U8 = intTable(false);
    private static final float[] I8 = intTable(true);

    private TensorValues() {}

    /** Values in {@code length} bytes of {@code dtype} (a C64 element is two: real, imaginary). */
    public static int count(DType dtype, int length) {
        requireDecodable(dtype);
        int size = dtype == DType.C64 ? 4 : dtype.bits() / 8;
        if (length % size != 0) {
            throw TensorErrors.values(length + " bytes do not hold whole " + dtype + " elements", null);
        }
        return length / size;
    }

    /** Values in each of {@code a} and {@code b}, compared value by value: both must be as long. */
    static int pairCount(byte[] a, byte[] b, DType dtype) {
        if (a.length != b.length) {
            throw TensorErrors.values(
                    "tensors of " + a.length + " and " + b.length + " bytes cannot be compared value by value",
                    "Compare tensors of one shape and dtype");
        }
        return count(dtype, a.length);
    }

    /** The dtypes this class decodes: all but the sub-byte floats (F4, F6_*). */
    public static void requireDecodable(DType dtype) {
        if (dtype.bits() % 8 != 0) {
            throw TensorErrors.values(
                    "tensors of dtype " + dtype + " are not decoded (sub-byte floats)",
                    "Read their bytes from the data column");
        }
    }

    /** Value {@code i} as a double (exact but for 64-bit integers beyond 2^53). */
    public static double getDouble(byte[] data, DType dtype, int i) {
        return switch (dtype) {
            case F64 -> Double.longBitsToDouble((long) I64.get(data, i * 8));
            case I64 -> (long) I64.get(data, i * 8);
            case U64 -> unsignedLong((long) I64.get(data, i * 8));
            case I32 -> (int) I32.get(data, i * 4);
            case U32 -> Integer.toUnsignedLong((int) I32.get(data, i * 4));
            default -> getFloat(data, dtype, i);
        };
    }

    /**
     * Value {@code i} as a float: exact for floats up to F32 and integers up to 16 bits; F64, 32- and 64-bit
     * integers round to nearest. C64 tensors hold two values per element, real then imaginary.
     */
    public static float getFloat(byte[] data, DType dtype, int i) {
        return switch (dtype) {
            case F32 -> Float.intBitsToFloat((int) I32.get(data, i * 4));
            case BF16 -> Float.intBitsToFloat(((short) I16.get(data, i * 2) & 0xffff) << 16);
            case F16 -> FloatConversion.f16ToF32((short) I16.get(data, i * 2) & 0xffff);
            case F64 -> (float) Double.longBitsToDouble((long) I64.get(data, i * 8));
            case C64 -> Float.intBitsToFloat((int) I32.get(data, i * 4));
            case BOOL -> data[i] != 0 ? 1f : 0f;
            case U8 -> U8[data[i] & 0xff];
            case I8 -> I8[data[i] & 0xff];
            case I16 -> (short) I16.get(data, i * 2);
            case U16 -> (short) I16.get(data, i * 2) & 0xffff;
            case I32 -> (int) I32.get(data, i * 4);
            case U32 -> Integer.toUnsignedLong((int) I32.get(data, i * 4));
            case I64 -> (long) I64.get(data, i * 8);
            case U64 -> (float) unsignedLong((long) I64.get(data, i * 8));
            case F8_E4M3 -> F8_E4M3[data[i] & 0xff];
            case F8_E5M2 -> F8_E5M2[data[i] & 0xff];
            case F8_E4M3FNUZ -> F8_E4M3FNUZ[data[i] & 0xff];
            case F8_E5M2FNUZ -> F8_E5M2FNUZ[data[i] & 0xff];
            case F8_E8M0 -> F8_E8M0[data[i] & 0xff];
            case F4, F6_E2M3, F6_E3M2 -> throw TensorErrors.values("sub-byte dtype " + dtype, null);
        };
    }

    /** Every value as a float (see {@link #getFloat}). */
    public static float[] toFloats(byte[] data, DType dtype) {
        int n = count(dtype, data.length);
        float[] out = new float[n];
        switch (dtype) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat((int) I32.get(data, i * 4));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat(((short) I16.get(data, i * 2) & 0xffff) << 16);
                }
            }
            default -> {
                for (int i = 0; i < n; i++) {
                    out[i] = getFloat(data, dtype, i);
                }
            }
        }
        return out;
    }

    /** Values {@code [start, start + count)} into {@code out} (as {@link #getDouble}), loops specialised per dtype. */
    public static void decode(byte[] data, DType dtype, int start, int count, double[] out) {
        switch (dtype) {
            case F32 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = Float.intBitsToFloat((int) I32.get(data, (start + i) * 4));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = Float.intBitsToFloat(((short) I16.get(data, (start + i) * 2) & 0xffff) << 16);
                }
            }
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = FloatConversion.f16ToF32((short) I16.get(data, (start + i) * 2) & 0xffff);
                }
            }
            case F64 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = Double.longBitsToDouble((long) I64.get(data, (start + i) * 8));
                }
            }
            default -> {
                for (int i = 0; i < count; i++) {
                    out[i] = getDouble(data, dtype, start + i);
                }
            }
        }
    }

    /** Whether every value of {@code dtype} is a float exactly (all dtypes but F64 and the 32/64-bit integers). */
    public static boolean isFloatExact(DType dtype) {
        return switch (dtype) {
            case F64, I32, U32, I64, U64 -> false;
            default -> true;
        };
    }

    /** Every value as a double (exact but for 64-bit integers beyond 2^53). */
    public static double[] toDoubles(byte[] data, DType dtype) {
        int n = count(dtype, data.length);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = getDouble(data, dtype, i);
        }
        return out;
    }

    /** The 8 bytes of value {@code i} of a 64-bit dtype, as they are. */
    public static long getRawLong(byte[] data, int i) {
        return (long) I64.get(data, i * 8);
    }

    private static double unsignedLong(long v) {
        double d = (double) (v >>> 1) * 2.0;
        return d + (v & 1);
    }

    private static float[] intTable(boolean signed) {
        float[] t = new float[256];
        for (int b = 0; b < 256; b++) {
            t[b] = signed ? (byte) b : b;
        }
        return t;
    }

    /**
     * The 256 values of an 8-bit float: {@code e} exponent and {@code m} mantissa bits, the given bias;
     * {@code ieee}: all-ones exponent is infinity (zero mantissa) or NaN (E5M2); {@code fn}: only
     * S.1111.111 is NaN (E4M3FN); otherwise (FNUZ) 0x80 alone is NaN and there is no negative zero.
     */
    private static float[] f8Table(int e, int m, int bias, boolean ieee, boolean fn) {
        float[] t = new float[256];
        int maxExp = (1 << e) - 1;
        for (int b = 0; b < 256; b++) {
            int sign = b >>> 7;
            int exp = (b >>> m) & maxExp;
            int man = b & ((1 << m) - 1);
            float v;
            if (!ieee && !fn && b == 0x80) {
                v = Float.NaN;
            } else if (ieee && exp == maxExp) {
                v = man == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
            } else if (fn && exp == maxExp && man == (1 << m) - 1) {
                v = Float.NaN;
            } else if (exp == 0) {
                v = (float) Math.scalb((double) man / (1 << m), 1 - bias);
            } else {
                v = (float) Math.scalb(1 + (double) man / (1 << m), exp - bias);
            }
            t[b] = sign == 1 && !Float.isNaN(v) ? -v : v;
        }
        return t;
    }

    /** E8M0: a power of two, 2^(b - 127); 0xFF is NaN. */
    private static float[] e8m0Table() {
        float[] t = new float[256];
        for (int b = 0; b < 256; b++) {
            t[b] = b == 0xff ? Float.NaN : (float) Math.scalb(1.0, b - 127);
        }
        return t;
    }
}
