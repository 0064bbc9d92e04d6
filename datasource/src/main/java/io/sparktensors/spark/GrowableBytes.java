package io.sparktensors.spark;

import io.sparktensors.errors.DatasetErrors;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** A little-endian byte buffer that grows (doubling, up to 2 GiB): one column of one file being written. */
public final class GrowableBytes {
    private static final int MAX = Integer.MAX_VALUE - 16;
    private final String column;
    private final long softLimit;
    private ByteBuffer buf;

    public GrowableBytes(String column, int initial) {
        this(column, initial, MAX);
    }

    /**
     * @param softLimit the size the owner flushes at: growth by doubling stops a little past it, so a full
     *     file's buffer is not twice the file
     */
    public GrowableBytes(String column, int initial, long softLimit) {
        this.column = column;
        this.softLimit = Math.min(MAX, softLimit + (1 << 20));
        this.buf = ByteBuffer.allocate(Math.max(16, initial)).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void ensure(int more) {
        if (buf.remaining() >= more) {
            return;
        }
        long needed = (long) buf.position() + more;
        if (needed > MAX) {
            throw DatasetErrors.tooLarge(column, MAX);
        }
        long grown = Math.min(MAX, Math.max(needed, Math.min(2L * buf.capacity(), softLimit)));
        ByteBuffer next = ByteBuffer.allocate((int) grown).order(ByteOrder.LITTLE_ENDIAN);
        buf.flip();
        next.put(buf);
        buf = next;
    }

    public void putDouble(double v) {
        ensure(8);
        buf.putDouble(v);
    }

    public void putFloat(float v) {
        ensure(4);
        buf.putFloat(v);
    }

    public void putLong(long v) {
        ensure(8);
        buf.putLong(v);
    }

    public void putInt(int v) {
        ensure(4);
        buf.putInt(v);
    }

    public void putShort(short v) {
        ensure(2);
        buf.putShort(v);
    }

    public void putByte(int v) {
        ensure(1);
        buf.put((byte) v);
    }

    public void put(byte[] b, int off, int len) {
        ensure(len);
        buf.put(b, off, len);
    }

    /** Bytes held. */
    public int size() {
        return buf.position();
    }

    /** The bytes held, as a read-only view from 0 to {@link #size}. */
    public ByteBuffer view() {
        ByteBuffer v = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        v.flip();
        return v;
    }

    public void writeTo(OutputStream out) throws IOException {
        out.write(buf.array(), 0, buf.position());
    }

    /** Empties the buffer, keeping its memory for the next file. */
    public void clear() {
        buf.clear();
    }
}
