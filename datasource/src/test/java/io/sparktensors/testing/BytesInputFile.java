package io.sparktensors.testing;

import io.sparktensors.io.InputFile;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import java.io.IOException;
import java.nio.ByteBuffer;

/** An in-memory file that counts the reads made of it. */
public final class BytesInputFile implements InputFile {
    private final String location;
    private final byte[] bytes;
    private int reads;

    public BytesInputFile(String location, byte[] bytes) {
        this.location = location;
        this.bytes = bytes;
    }

    public int reads() {
        return reads;
    }

    @Override
    public String location() {
        return location;
    }

    @Override
    public long length() {
        return bytes.length;
    }

    @Override
    public SeekableInput open(ReadPolicy policy) {
        return new SeekableInput() {
            @Override
            public void readFully(long position, byte[] buffer, int offset, int length) throws IOException {
                reads++;
                if (position + length > bytes.length) {
                    throw SeekableInput.unexpectedEnd(location, position, length);
                }
                System.arraycopy(bytes, (int) position, buffer, offset, length);
            }

            @Override
            public void readFully(long position, ByteBuffer dst) throws IOException {
                byte[] tmp = new byte[dst.remaining()];
                readFully(position, tmp, 0, tmp.length);
                dst.put(tmp);
            }

            @Override
            public void close() {}
        };
    }
}
