package io.sparktensors.format.pytorch;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.io.SeekableInput;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The bytes of one or more pickles: a window {@code [position, end)} of a file (the legacy format, where
 * pickles precede the tensor data) or of an in-memory record (a zip archive's {@code data.pkl}), read
 * through a small buffer. Every length a pickle declares is checked against {@link #remaining()} before
 * anything is allocated for it, so nothing read can exceed the window.
 */
final class PickleInput {
    private static final int BUFFER_BYTES = 64 * 1024;

    private final String file;
    private final SeekableInput in;
    private final long end;
    /** Where position 0 lies in the file, or -1 when the pickle's bytes are not the file's (deflated). */
    private final long fileBase;

    private final byte[] buffer;
    private long bufferStart;
    private int bufferLength;
    private long position;

    /** A window {@code [start, end)} of the file itself. */
    PickleInput(String file, SeekableInput in, long start, long end) {
        this(file, in, start, end, 0);
    }

    private PickleInput(String file, SeekableInput in, long start, long end, long fileBase) {
        this.file = file;
        this.in = in;
        this.end = end;
        this.fileBase = fileBase;
        this.position = start;
        this.buffer = new byte[(int) Math.min(BUFFER_BYTES, Math.max(0, end - start))];
    }

    /** A window over the whole of {@code bytes}, which are not found as they are in the file. */
    static PickleInput of(String file, byte[] bytes) {
        return of(file, bytes, -1);
    }

    /**
     * A window over the whole of {@code bytes}, which lie as they are in the file from {@code fileBase} (a
     * stored zip record), or not at all when it is -1.
     */
    static PickleInput of(String file, byte[] bytes, long fileBase) {
        return new PickleInput(file, new BytesInput(bytes), 0, bytes.length, fileBase);
    }

    /** The file offset of pickle position {@code position}, or -1 when the pickle's bytes are not the file's. */
    long fileOffset(long position) {
        return fileBase < 0 ? -1 : fileBase + position;
    }

    String file() {
        return file;
    }

    long position() {
        return position;
    }

    long remaining() {
        return end - position;
    }

    int readByte() throws IOException {
        if (position >= end) {
            throw endOfPickle(1);
        }
        if (position < bufferStart || position >= bufferStart + bufferLength) {
            fill();
        }
        return buffer[(int) (position++ - bufferStart)] & 0xff;
    }

    /** Reads {@code n} bytes, after checking they lie inside the window. */
    byte[] readBytes(long n) throws IOException {
        if (n < 0 || n > remaining() || n > Integer.MAX_VALUE - 8) {
            throw endOfPickle(n);
        }
        byte[] out = new byte[(int) n];
        int done = 0;
        while (done < n) {
            if (position < bufferStart || position >= bufferStart + bufferLength) {
                fill();
            }
            int available = (int) Math.min(n - done, bufferStart + bufferLength - position);
            System.arraycopy(buffer, (int) (position - bufferStart), out, done, available);
            done += available;
            position += available;
        }
        return out;
    }

    /** An unsigned little-endian integer of {@code width} (at most 8) bytes. */
    long readUnsigned(int width) throws IOException {
        long v = 0;
        for (int i = 0; i < width; i++) {
            v |= (long) readByte() << (8 * i);
        }
        return v;
    }

    /** A line ended by '\n' of at most {@code maxLength} ASCII characters, without the '\n'. */
    String readLine(int maxLength) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c = readByte(); c != '\n'; c = readByte()) {
            if (sb.length() >= maxLength || c < 0x20 || c > 0x7e) {
                throw new MalformedTensorFileException(
                        file,
                        null,
                        "a GLOBAL opcode at offset " + position
                                + " names a module or attribute that is not a short line of printable ASCII; the pickle is"
                                + " corrupt or hostile.");
            }
            sb.append((char) c);
        }
        return sb.toString();
    }

    private void fill() throws IOException {
        int n = (int) Math.min(buffer.length, end - position);
        try {
            in.readFully(position, buffer, 0, n);
        } catch (EOFException e) {
            throw new MalformedTensorFileException(
                    file,
                    null,
                    "the file ends inside a pickle at offset " + position + ". It is truncated; copy it again.",
                    e);
        }
        bufferStart = position;
        bufferLength = n;
    }

    private MalformedTensorFileException endOfPickle(long wanted) {
        return new MalformedTensorFileException(
                file,
                null,
                "the pickle wants " + wanted + " bytes at offset "
                        + position + " but only " + remaining()
                        + " remain (within the file and the maxHeaderBytes limit)."
                        + " The file is truncated or corrupt; if it is trusted and has a very large pickle, raise the read"
                        + " option maxHeaderBytes.");
    }

    /** Positioned reads of an in-memory record. */
    record BytesInput(byte[] bytes) implements SeekableInput {
        @Override
        public void readFully(long position, byte[] buffer, int offset, int length) throws IOException {
            if (position < 0 || position + length > bytes.length) {
                throw new EOFException("read of " + length + " bytes at " + position + " beyond " + bytes.length);
            }
            System.arraycopy(bytes, (int) position, buffer, offset, length);
        }

        @Override
        public void readFully(long position, ByteBuffer dst) throws IOException {
            byte[] b = new byte[dst.remaining()];
            readFully(position, b, 0, b.length);
            dst.put(b);
        }

        @Override
        public void close() {}
    }
}
