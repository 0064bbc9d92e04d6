package io.sparktensors.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

/** Creates the files writers stream into, on any Hadoop FileSystem. */
public final class OutputFiles {
    private OutputFiles() {}

    /**
     * The file system to create, rename and delete files under {@code path} with: the raw local file system for
     * {@code file:} paths, so no {@code .crc} side files appear beside checkpoint files; otherwise the path's own.
     */
    public static FileSystem fileSystem(Path path, Configuration conf) throws IOException {
        FileSystem fs = path.getFileSystem(conf);
        return fs instanceof LocalFileSystem local ? local.getRaw() : fs;
    }

    /**
     * A new file (failing if it exists). Local files are a {@link ChannelOutput} (a {@link FileChannel}, which
     * takes off-heap buffers as they are and copies heap writes once into a reused direct buffer); others their
     * FileSystem's stream (multipart uploads on S3A).
     */
    public static OutputStream create(Path path, Configuration conf) throws IOException {
        FileSystem fs = fileSystem(path, conf);
        if (fs instanceof RawLocalFileSystem && HadoopInputFile.isLocalDisk(fs)) {
            java.nio.file.Path local = Paths.get(fs.makeQualified(path).toUri());
            Files.createDirectories(local.getParent());
            return new ChannelOutput(FileChannel.open(local, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
        }
        return fs.create(path, false);
    }
}
