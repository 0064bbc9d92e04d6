package io.sparktensors.io;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;

/** A file on the local disk, read through a {@link FileChannel} (direct into off-heap buffers). */
public final class LocalInputFile implements InputFile {
    private final Path path;
    private final long knownLength;

    public LocalInputFile(Path path) {
        this(path, -1);
    }

    /** A file whose length is known already (from planning), so {@link #length()} needs no system call. */
    public LocalInputFile(Path path, long length) {
        this.path = Objects.requireNonNull(path, "path");
        this.knownLength = length;
    }

    @Override
    public String location() {
        return path.toString();
    }

    @Override
    public long length() throws IOException {
        return knownLength >= 0 ? knownLength : Files.size(path);
    }

    @Override
    public SeekableInput open(ReadPolicy policy) throws IOException {
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            // Callers tell missing files from corrupt ones by this type, as with Hadoop streams.
            throw (FileNotFoundException) new FileNotFoundException("File does not exist: " + path).initCause(e);
        }
        return new SeekableInput() {
            @Override
            public void readFully(long position, byte[] buffer, int offset, int length) throws IOException {
                readFully(position, ByteBuffer.wrap(buffer, offset, length));
            }

            @Override
            public void readFully(long position, ByteBuffer dst) throws IOException {
                long start = position;
                long wanted = dst.remaining();
                while (dst.hasRemaining()) {
                    int n = channel.read(dst, position);
                    if (n < 0) {
                        throw SeekableInput.unexpectedEnd(location(), start, wanted);
                    }
                    position += n;
                }
            }

            @Override
            public boolean canMap() {
                return true;
            }

            @Override
            public MappedByteBuffer map(long position, int length) throws IOException {
                // Checked against the file as it is now: a page mapped past its end would fault when read.
                if (position + length > channel.size()) {
                    throw SeekableInput.unexpectedEnd(location(), position, length);
                }
                return channel.map(FileChannel.MapMode.READ_ONLY, position, length);
            }

            @Override
            public void close() throws IOException {
                channel.close();
            }
        };
    }
}
