package io.sparktensors.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Paths;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * {@link FolderFiles} on any Hadoop file system. On the local file system a link is followed only when its
 * target stays inside the folder; elsewhere (HDFS) links are not followed at all.
 */
public final class HadoopFolderFiles implements FolderFiles {
    private final FileSystem fs;
    private final Path folder;

    public HadoopFolderFiles(FileSystem fs, Path folder) {
        this.fs = fs;
        this.folder = folder;
    }

    @Override
    public InputFile resolve(String referrer, String relativeName) throws IOException {
        FolderFiles.checkRelative(referrer, relativeName);
        Path p = new Path(folder, relativeName.replace('\\', '/'));
        FileStatus status = fs.getFileStatus(p); // FileNotFoundException when absent
        if ("file".equals(fs.getUri().getScheme())) {
            java.nio.file.Path real = Paths.get(p.toUri()).toRealPath();
            if (!real.startsWith(Paths.get(folder.toUri()).toRealPath()) || !Files.isRegularFile(real)) {
                throw FolderFiles.outside(referrer, relativeName);
            }
        } else if (isLink(p)) {
            throw FolderFiles.outside(referrer, relativeName); // where links exist (HDFS), none is followed
        }
        if (!status.isFile()) {
            throw FolderFiles.outside(referrer, relativeName);
        }
        return HadoopInputFile.of(fs, status);
    }

    private boolean isLink(Path p) throws IOException {
        try {
            return fs.getFileLinkStatus(p).isSymlink();
        } catch (UnsupportedOperationException e) {
            return false; // a file system without links (S3A)
        }
    }
}
