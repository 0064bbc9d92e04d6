package io.sparktensors.io;

import io.sparktensors.errors.MalformedTensorFileException;
import java.io.IOException;

/**
 * The files beside a checkpoint file, by relative name. Implementations refuse names that would leave the
 * folder: absolute paths, {@code ..} segments, and links that point outside it.
 */
public interface FolderFiles {

    /**
     * The file {@code relativeName} inside the folder.
     *
     * @throws MalformedTensorFileException when the name leaves the folder (naming
     *     {@code referrer}, the file that asked for it)
     * @throws java.io.FileNotFoundException when it does not exist
     */
    InputFile resolve(String referrer, String relativeName) throws IOException;

    /** Refuses names that are absolute or climb out with {@code ..}; returns the name's segments. */
    static String[] checkRelative(String referrer, String relativeName) throws MalformedTensorFileException {
        if (relativeName.isEmpty()
                || relativeName.startsWith("/")
                || relativeName.startsWith("\\")
                || relativeName.indexOf(':') >= 0
                || relativeName.indexOf('\0') >= 0) {
            throw outside(referrer, relativeName);
        }
        String[] parts = relativeName.split("[/\\\\]");
        for (String p : parts) {
            if (p.equals("..") || p.isEmpty()) {
                throw outside(referrer, relativeName);
            }
        }
        return parts;
    }

    static MalformedTensorFileException outside(String referrer, String name) {
        return new MalformedTensorFileException(
                referrer,
                null,
                "it refers to the file '"
                        + MalformedTensorFileException.printable(name)
                        + "', which is not inside its folder; only files beside it may be read");
    }
}
