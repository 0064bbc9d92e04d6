package io.sparktensors.format;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.io.SeekableInput;
import java.io.EOFException;
import java.io.IOException;

/**
 * Buffered forward reads of a file's structure (a GGUF header, ONNX protobuf fields) through positioned
 * reads, so a reader can walk a large file and jump over tensor payloads without loading them. The bytes
 * read into memory are counted against a budget ({@link ReadLimits#maxHeaderBytes()}); bytes skipped are
 * not. Every read is checked against the file length first, so truncation and hostile lengths surface as
 * {@link MalformedTensorFileException} before anything is allocated. Not thread-safe.
 */
public final class StructureInput {
    /** Bytes fetched per positioned read; structure fields are small and mostly adjacent. */
    static final int WINDOW_BYTES = 64 * 1024;

    private final SeekableInput in;
    private final String location;
    private final long fileLength;
    private final long budget;
    private final byte[] window;
    private long windowStart;
    private int windowLength;
    private long position;
    private long consumed;

    /**
     * @param in the open file
     * @param location the file's location, for error messages
     * @param fileLength the file's length
     * @param budget most bytes that may be read into memory (skipped bytes do not count)
     */
    public StructureInput(SeekableInput in, String location, long fileLength, long budget) {
        this.in = in;
        this.location = location;
        this.fileLength = fileLength;
        this.budget = budget;
        this.window = new byte[(int) Math.min(WINDOW_BYTES, Math.max(fileLength, 1))];
    }

    public String location() {
        return location;
    }

    public long fileLength() {
        return fileLength;
    }

    public long position() {
        return position;
    }

    /** Bytes left between the position and the end of the file. */
    public long remaining() {
        return fileLength - position;
    }

    /** Skips {@code n} bytes without reading them. */
    public void skip(long n) throws MalformedTensorFileException {
        if (n < 0 || n > remaining()) {
            throw truncated(n);
        }
        position += n;
    }

    /** The next byte, 0 to 255. */
    public int readByte() throws IOException {
        require(1);
        if (position < windowStart || position >= windowStart + windowLength) {
            fill();
        }
        int b = window[(int) (position - windowStart)] & 0xff;
        position++;
        return b;
    }

    /** The next {@code n} bytes, checked against the file and the budget before they are allocated. */
    public byte[] readBytes(long n) throws IOException {
        require(n);
        byte[] out = new byte[(int) n];
        int done = 0;
        while (done < out.length) {
            if (position < windowStart || position >= windowStart + windowLength) {
                fill();
            }
            int at = (int) (position - windowStart);
            int count = Math.min(out.length - done, windowLength - at);
            System.arraycopy(window, at, out, done, count);
            done += count;
            position += count;
        }
        return out;
    }

    /** A little-endian unsigned 32-bit integer. */
    public long readUInt32() throws IOException {
        long v = 0;
        for (int i = 0; i < 4; i++) {
            v |= (long) readByte() << (8 * i);
        }
        return v;
    }

    /** A little-endian 64-bit integer (unsigned values above {@code Long.MAX_VALUE} come out negative). */
    public long readInt64() throws IOException {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v |= (long) readByte() << (8 * i);
        }
        return v;
    }

    /** A fault in the structure at the current position, naming the file. */
    public MalformedTensorFileException fault(String what) {
        return new MalformedTensorFileException(location, null, what);
    }

    private void require(long n) throws MalformedTensorFileException {
        if (n < 0 || n > remaining()) {
            throw truncated(n);
        }
        if (n > Integer.MAX_VALUE - 8 || consumed + n > budget) {
            throw fault("its structure (headers, names, metadata) needs more than the limit of " + budget
                    + " bytes in memory. If the file is trusted, raise the read option maxHeaderBytes.");
        }
        consumed += n;
    }

    private MalformedTensorFileException truncated(long n) {
        return fault("a structure at byte " + position + " needs " + n + " bytes but the file ends at byte "
                + fileLength + ". The file is truncated or not in this format.");
    }

    private void fill() throws IOException {
        int n = (int) Math.min(window.length, fileLength - position);
        try {
            in.readFully(position, window, 0, n);
        } catch (EOFException e) {
            throw new MalformedTensorFileException(
                    location,
                    null,
                    "the file ended while it was read (it is shorter " + "than its listed length " + fileLength
                            + "); it was truncated or is still being written.",
                    e);
        }
        windowStart = position;
        windowLength = n;
    }
}
