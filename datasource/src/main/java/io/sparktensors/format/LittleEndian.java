package io.sparktensors.format;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Little-endian integers at an offset of a byte array: the one place the format readers turn file bytes
 * into numbers, instead of a shift-and-mask copy or a one-off {@code ByteBuffer} per reader. Offsets are
 * not checked beyond the array's own bounds (an {@link IndexOutOfBoundsException}), so callers check
 * lengths read from a file first, as they do before any read.
 */
public final class LittleEndian {
    // View handles read a multi-byte value in one access, without wrapping the array in a buffer.
    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private LittleEndian() {}

    /** The signed 16-bit integer at {@code at}. */
    public static short getShort(byte[] b, int at) {
        return (short) SHORT.get(b, at);
    }

    /** The unsigned 16-bit integer at {@code at}, 0 to 65535. */
    public static int getUnsignedShort(byte[] b, int at) {
        return getShort(b, at) & 0xffff;
    }

    /** The signed 32-bit integer at {@code at}. */
    public static int getInt(byte[] b, int at) {
        return (int) INT.get(b, at);
    }

    /** The unsigned 32-bit integer at {@code at}. */
    public static long getUnsignedInt(byte[] b, int at) {
        return getInt(b, at) & 0xffff_ffffL;
    }

    /** The 64-bit integer at {@code at} (unsigned values above {@code Long.MAX_VALUE} come out negative). */
    public static long getLong(byte[] b, int at) {
        return (long) LONG.get(b, at);
    }
}
