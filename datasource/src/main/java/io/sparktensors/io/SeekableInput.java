package io.sparktensors.io;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;

/** Positioned reads of one open file. Not thread-safe. */
public interface SeekableInput extends Closeable {

    /** Reads exactly {@code length} bytes at {@code position} into {@code buffer}, or throws EOFException. */
    void readFully(long position, byte[] buffer, int offset, int length) throws IOException;

    /**
     * Reads exactly {@code dst.remaining()} bytes at {@code position} into {@code dst} (often off-heap Arrow
     * memory), or throws EOFException.
     */
    void readFully(long position, ByteBuffer dst) throws IOException;

    /** Whether {@link #map} gives views of the file's pages (local files); false for remote storage. */
    default boolean canMap() {
        return false;
    }

    /**
     * A read-only view of {@code length} bytes at {@code position} straight from the file's pages in the page
     * cache, no copy; or EOFException where the file is shorter. Only where {@link #canMap()}; the caller
     * releases it with {@link MappedBytes#release} once done, and must not read it after.
     */
    default MappedByteBuffer map(long position, int length) throws IOException {
        throw new UnsupportedOperationException("This input cannot be mapped");
    }

    /** The exception a short read raises, naming the file and the range. */
    static EOFException unexpectedEnd(String location, long position, long wanted) {
        return new EOFException("Unexpected end of file '" + location + "' reading " + wanted + " bytes at offset "
                + position + ": the file is shorter than its header says; it was truncated or is still being written.");
    }
}
