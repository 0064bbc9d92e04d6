package io.sparktensors.io;

import java.io.IOException;

/**
 * A readable file of known length: the seam between storage (local disk, any Hadoop FileSystem) and the
 * format readers, which only ever issue positioned reads.
 */
public interface InputFile {

    /** The file's location as users know it (a path or URI), used in every error message. */
    String location();

    /** The file length in bytes. */
    long length() throws IOException;

    /** Opens a stream for positioned reads; the caller closes it. */
    SeekableInput open(ReadPolicy policy) throws IOException;
}
