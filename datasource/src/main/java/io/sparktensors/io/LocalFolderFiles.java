package io.sparktensors.io;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@link FolderFiles} on the local disk; links are followed only when their target stays in the folder. */
public final class LocalFolderFiles implements FolderFiles {
    private final Path folder;

    public LocalFolderFiles(Path folder) {
        this.folder = folder.toAbsolutePath().normalize();
    }

    /** The folder of {@code file}. */
    public static LocalFolderFiles beside(Path file) {
        return new LocalFolderFiles(file.toAbsolutePath().getParent());
    }

    @Override
    public InputFile resolve(String referrer, String relativeName) throws IOException {
        FolderFiles.checkRelative(referrer, relativeName);
        Path p = folder.resolve(relativeName).normalize();
        if (!p.startsWith(folder)) {
            throw FolderFiles.outside(referrer, relativeName);
        }
        if (!Files.exists(p)) {
            throw new FileNotFoundException("File does not exist: " + p + " (referred to by " + referrer + ")");
        }
        if (!p.toRealPath().startsWith(folder.toRealPath())) {
            throw FolderFiles.outside(referrer, relativeName);
        }
        return new LocalInputFile(p);
    }
}
