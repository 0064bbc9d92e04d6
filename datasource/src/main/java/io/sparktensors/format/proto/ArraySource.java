package io.sparktensors.format.proto;

import io.sparktensors.errors.MalformedTensorFileException;
import java.util.Arrays;

/**
 * A {@link ByteSource} over a window of a byte array held in memory. Positions are indexes into the array:
 * offsets in the file when the array holds the whole file (a TensorFlow index), offsets in a value otherwise.
 * The position may also be set, so a reader of a structure other than protobuf (a table of varint-prefixed
 * entries) can decode at any offset.
 */
public final class ArraySource implements ByteSource {
    private final String location;
    private final byte[] buf;
    private final int start;
    private final int limit;
    private int pos;

    ArraySource(String location, byte[] buf, int offset, int length) {
        if (offset < 0 || length < 0 || offset > buf.length - length) {
            throw new IndexOutOfBoundsException("window " + offset + "+" + length + " of " + buf.length + " bytes");
        }
        this.location = location;
        this.buf = buf;
        this.start = offset;
        this.limit = offset + length;
        this.pos = offset;
    }

    @Override
    public long position() {
        return pos;
    }

    /** Moves to {@code position}, which must lie in the window (or at its end). */
    public void seek(long position) {
        if (position < start || position > limit) {
            throw new IndexOutOfBoundsException("position " + position + " outside [" + start + ", " + limit + "]");
        }
        pos = (int) position;
    }

    @Override
    public int readByte() throws MalformedTensorFileException {
        require(1);
        return buf[pos++] & 0xff;
    }

    @Override
    public byte[] readBytes(long n) throws MalformedTensorFileException {
        require(n);
        byte[] out = Arrays.copyOfRange(buf, pos, pos + (int) n);
        pos += (int) n;
        return out;
    }

    @Override
    public void skip(long n) throws MalformedTensorFileException {
        require(n);
        pos += (int) n;
    }

    private void require(long n) throws MalformedTensorFileException {
        if (n < 0 || n > limit - pos) {
            throw new MalformedTensorFileException(
                    location,
                    null,
                    "a structure at byte " + pos + " needs " + n + " bytes but its window ends at byte " + limit
                            + ". The file is truncated or corrupt.");
        }
    }
}
