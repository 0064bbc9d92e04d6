package io.sparktensors.analysis;

import io.sparktensors.format.DType;
import io.sparktensors.format.FloatConversion;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/**
 * Decodes blocks of a tensor's bytes (a heap or direct buffer, little-endian) into reused arrays: the common
 * dtypes by one bulk copy into a primitive array (a memory copy, no per-value bounds checks) and a loop the
 * JIT vectorizes; the rest value by value through {@link TensorValues}.
 */
final class BlockDecoder {
    private final ByteBuffer data;
    private final ShortBuffer shortView;
    private final FloatBuffer floatView;
    private final DoubleBuffer doubleView;
    private final DType dtype;
    private final int elementSize;
    private final short[] shorts;
    private final byte[] bytes;
    private final float[] widened;

    BlockDecoder(ByteBuffer data, DType dtype, int blockSize) {
        this.data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
        this.shortView = this.data.asShortBuffer();
        this.floatView = this.data.asFloatBuffer();
        this.doubleView = this.data.asDoubleBuffer();
        this.dtype = dtype;
        this.elementSize = dtype == DType.C64 ? 4 : dtype.bits() / 8;
        this.shorts = new short[blockSize];
        this.bytes = new byte[blockSize * 8];
        this.widened = new float[blockSize];
    }

    /** Values {@code [start, start + count)} as floats; only for {@link TensorValues#isFloatExact} dtypes. */
    void floats(int start, int count, float[] out) {
        switch (dtype) {
            case F32, C64 -> floatView.get(start, out, 0, count);
            case BF16 -> {
                shortView.get(start, shorts, 0, count);
                for (int i = 0; i < count; i++) {
                    out[i] = Float.intBitsToFloat(shorts[i] << 16);
                }
            }
            case F16 -> {
                shortView.get(start, shorts, 0, count);
                float[] table = F16Table.VALUES;
                for (int i = 0; i < count; i++) {
                    out[i] = table[shorts[i] & 0xffff];
                }
            }
            default -> {
                copy(start, count);
                for (int i = 0; i < count; i++) {
                    out[i] = TensorValues.getFloat(bytes, dtype, i);
                }
            }
        }
    }

    /** The BF16 bit patterns of values {@code [start, start + count)}, in an array reused by the next call. */
    short[] bf16Bits(int start, int count) {
        shortView.get(start, shorts, 0, count);
        return shorts;
    }

    /** Values {@code [start, start + count)} as doubles (see {@link TensorValues#getDouble}). */
    void doubles(int start, int count, double[] out) {
        if (dtype == DType.F64) {
            doubleView.get(start, out, 0, count);
        } else if (dtype == DType.BF16 || dtype == DType.F16 || dtype == DType.F32) {
            floats(start, count, widened);
            for (int i = 0; i < count; i++) {
                out[i] = widened[i];
            }
        } else {
            copy(start, count);
            TensorValues.decode(bytes, dtype, 0, count, out);
        }
    }

    private void copy(int start, int count) {
        data.get(start * elementSize, bytes, 0, count * elementSize);
    }

    /** Every F16 bit pattern's float value (256 KiB, made on first use). */
    private static final class F16Table {
        static final float[] VALUES = new float[1 << 16];

        static {
            for (int h = 0; h < VALUES.length; h++) {
                VALUES[h] = FloatConversion.f16ToF32(h);
            }
        }
    }
}
