package io.sparktensors.format.proto;

import io.sparktensors.format.StructureInput;
import java.io.IOException;

/**
 * A {@link ByteSource} over a {@link StructureInput}: reads come through its window and count against its
 * memory budget, skips only move the position.
 */
final class StreamingSource implements ByteSource {
    private final StructureInput in;

    StreamingSource(StructureInput in) {
        this.in = in;
    }

    @Override
    public long position() {
        return in.position();
    }

    @Override
    public int readByte() throws IOException {
        return in.readByte();
    }

    @Override
    public byte[] readBytes(long n) throws IOException {
        return in.readBytes(n);
    }

    @Override
    public void skip(long n) throws IOException {
        in.skip(n);
    }
}
