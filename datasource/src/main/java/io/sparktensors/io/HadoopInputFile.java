package io.sparktensors.io;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Paths;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.StreamCapabilities;

/**
 * A file on any Hadoop FileSystem ({@code file:}, {@code hdfs:}, {@code s3a:}, ...). Streams are opened with
 * the known length and a read policy, so object stores skip the HEAD request and pick ranged or
 * sequential GETs.
 */
public final class HadoopInputFile implements InputFile {
    /** Copies between the stream and off-heap memory go through this much heap at most. */
    private static final int STAGING_BYTES = 1 << 20;

    private final FileSystem fs;
    private final Path path;
    private final long length;
    private final FileStatus status;

    private HadoopInputFile(FileSystem fs, Path path, long length, FileStatus status) {
        this.fs = Objects.requireNonNull(fs, "fs");
        this.path = Objects.requireNonNull(path, "path");
        this.length = length;
        this.status = status;
    }

    /** A file whose status was listed already (no further metadata request). */
    public static HadoopInputFile of(FileSystem fs, FileStatus status) {
        return new HadoopInputFile(fs, status.getPath(), status.getLen(), status);
    }

    /** A file whose length the caller knows (from planning); the length is checked against the store. */
    public static HadoopInputFile of(FileSystem fs, Path path, long length) {
        return new HadoopInputFile(fs, path, length, null);
    }

    /**
     * The best reader for a planned file: local files through a {@link java.nio.channels.FileChannel}, which
     * reads straight into off-heap buffers (Hadoop's local streams copy through the heap), anything else
     * through its Hadoop FileSystem.
     */
    public static InputFile forData(FileSystem fs, Path path, long length) {
        if (isLocalDisk(fs)) {
            return new LocalInputFile(Paths.get(fs.makeQualified(path).toUri()), length);
        }
        return of(fs, path, length);
    }

    /** The local disk under its own scheme (not another scheme layered on the local file system by a test). */
    static boolean isLocalDisk(FileSystem fs) {
        return (fs instanceof LocalFileSystem || fs instanceof RawLocalFileSystem)
                && "file".equals(fs.getUri().getScheme());
    }

    @Override
    public String location() {
        return path.toString();
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public SeekableInput open(ReadPolicy policy) throws IOException {
        var builder = fs.openFile(path)
                .opt("fs.option.openfile.read.policy", policy == ReadPolicy.RANDOM ? "random" : "sequential")
                .opt("fs.option.openfile.length", Long.toString(length));
        if (status != null) {
            builder.withFileStatus(status);
        }
        FSDataInputStream in;
        try {
            in = builder.build().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("Interrupted opening " + path);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException("Cannot open " + path + ": " + e.getCause(), e.getCause());
        }
        return new HadoopSeekableInput(in);
    }

    private final class HadoopSeekableInput implements SeekableInput {
        private final FSDataInputStream in;
        private final boolean byteBufferReads;
        private byte[] staging;

        HadoopSeekableInput(FSDataInputStream in) {
            this.in = in;
            this.byteBufferReads = in.hasCapability(StreamCapabilities.READBYTEBUFFER);
        }

        @Override
        public void readFully(long position, byte[] buffer, int offset, int len) throws IOException {
            try {
                in.readFully(position, buffer, offset, len);
            } catch (EOFException e) {
                throw SeekableInput.unexpectedEnd(location(), position, len);
            }
        }

        @Override
        public void readFully(long position, ByteBuffer dst) throws IOException {
            long wanted = dst.remaining();
            if (in.getPos() != position) {
                in.seek(position);
            }
            if (byteBufferReads) {
                while (dst.hasRemaining()) {
                    if (in.read(dst) < 0) {
                        throw SeekableInput.unexpectedEnd(location(), position, wanted);
                    }
                }
                return;
            }
            if (staging == null) {
                staging = new byte[STAGING_BYTES];
            }
            while (dst.hasRemaining()) {
                int n = in.read(staging, 0, Math.min(staging.length, dst.remaining()));
                if (n < 0) {
                    throw SeekableInput.unexpectedEnd(location(), position, wanted);
                }
                dst.put(staging, 0, n);
            }
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
