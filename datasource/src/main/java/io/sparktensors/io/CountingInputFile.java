package io.sparktensors.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/** An {@link InputFile} that counts the reads made of it and their bytes (planning reports them). */
public final class CountingInputFile implements InputFile {
    private final InputFile file;
    private final AtomicLong reads = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();

    public CountingInputFile(InputFile file) {
        this.file = file;
    }

    public long reads() {
        return reads.get();
    }

    public long bytes() {
        return bytes.get();
    }

    @Override
    public String location() {
        return file.location();
    }

    @Override
    public long length() throws IOException {
        return file.length();
    }

    @Override
    public SeekableInput open(ReadPolicy policy) throws IOException {
        SeekableInput in = file.open(policy);
        return new SeekableInput() {
            @Override
            public void readFully(long position, byte[] buffer, int offset, int length) throws IOException {
                reads.incrementAndGet();
                bytes.addAndGet(length);
                in.readFully(position, buffer, offset, length);
            }

            @Override
            public void readFully(long position, ByteBuffer dst) throws IOException {
                reads.incrementAndGet();
                bytes.addAndGet(dst.remaining());
                in.readFully(position, dst);
            }

            @Override
            public void close() throws IOException {
                in.close();
            }
        };
    }
}
