package io.sparktensors.format.proto;

import io.sparktensors.format.StructureInput;
import java.io.IOException;

/**
 * The bytes a {@link ProtoReader} walks, read forward from a position. Two kinds: {@link #streaming} walks
 * a file through positioned reads and jumps over what it skips (an ONNX model may hold gigabytes of weights
 * inline; they are located, never loaded), and {@link #of(String, byte[], int, int)} reads a window of an
 * array already in memory (a TensorFlow index entry).
 *
 * <p>Positions are absolute (bytes into the file, or indexes into the array), so errors and recorded
 * offsets mean the same in both. The reader checks every read against the end of its message before it
 * asks; a source checks only its own bounds, as a last line.
 */
public interface ByteSource {
    /** The position of the next byte. */
    long position();

    /** The next byte, 0 to 255. */
    int readByte() throws IOException;

    /** The next {@code n} bytes. */
    byte[] readBytes(long n) throws IOException;

    /** Moves past {@code n} bytes without reading them. */
    void skip(long n) throws IOException;

    /** A source that streams {@code in} from its current position (its memory budget applies). */
    static ByteSource streaming(StructureInput in) {
        return new StreamingSource(in);
    }

    /**
     * A source over {@code buf[offset, offset + length)}, starting at {@code offset}.
     *
     * @param location the file the bytes came from, for error messages
     */
    static ArraySource of(String location, byte[] buf, int offset, int length) {
        return new ArraySource(location, buf, offset, length);
    }
}
