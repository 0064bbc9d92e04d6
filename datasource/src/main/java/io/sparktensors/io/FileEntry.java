package io.sparktensors.io;

import java.util.Objects;

/**
 * A file or folder as a {@link FileStore} lists it.
 *
 * @param path the full path or URI, as the store qualifies it
 * @param name the last segment of the path
 * @param length the file length in bytes (0 for a folder)
 * @param directory whether it is a folder
 */
public record FileEntry(String path, String name, long length, boolean directory) {
    public FileEntry {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(name, "name");
    }

    /** A regular file. */
    public boolean isFile() {
        return !directory;
    }
}
