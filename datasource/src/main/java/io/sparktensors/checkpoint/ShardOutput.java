package io.sparktensors.checkpoint;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.DType;
import io.sparktensors.format.FloatConversion;
import io.sparktensors.format.safetensors.TensorEntry;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.List;
import java.util.Map;

/**
 * Streams one planned shard to an output stream: the header first, then each tensor's bytes in the shard's
 * order as they arrive, converted on the fly when the tensor's dtype changes. Checks that tensors come in
 * order and that each gets exactly the bytes its shape and dtype need. Memory: one conversion buffer.
 */
public final class ShardOutput {
    private static final int CONVERT_BYTES = 1 << 20;

    private final String location;
    private final List<TensorEntry> entries;
    private final Map<String, DType> sourceDtypes;
    private final OutputStream out;
    private int index = -1;
    private TensorEntry current;
    private DType source;
    private long sourceBytes;
    private long expectedSourceBytes;
    private final byte[] carry = new byte[8];
    private int carried;
    private ByteBuffer converted;

    /**
     * @param location where the shard goes, for messages
     * @param sourceDtypes each tensor's dtype as it arrives, when it differs from the planned one
     */
    public ShardOutput(String location, ShardPlan.Shard shard, Map<String, DType> sourceDtypes, OutputStream out)
            throws IOException {
        this.location = location;
        this.entries = shard.tensors();
        this.sourceDtypes = sourceDtypes;
        this.out = out;
        out.write(shard.header());
    }

    /** Starts the next tensor, which must be {@code name}. */
    public void begin(String name) throws IOException {
        if (current != null) {
            end();
        }
        if (index + 1 >= entries.size() || !entries.get(index + 1).name().equals(name)) {
            String expected =
                    index + 1 < entries.size() ? "'" + entries.get(index + 1).name() + "'" : "no more tensors";
            throw new MalformedTensorFileException(
                    location,
                    name,
                    "arrived out of order: the shard expects " + expected
                            + " next. The input has a duplicate tensor or one not in the plan.");
        }
        current = entries.get(++index);
        source = sourceDtypes.getOrDefault(name, current.dtype());
        long elements = current.elementCount();
        expectedSourceBytes = source.byteSize(elements);
        sourceBytes = 0;
    }

    /** Appends bytes of the current tensor in its source dtype. */
    public void append(byte[] b, int off, int len) throws IOException {
        count(len);
        if (source == current.dtype()) {
            out.write(b, off, len);
            return;
        }
        convert(b, off, len);
    }

    /**
     * Appends the remaining bytes of {@code src} (the current tensor's, in its source dtype): an off-heap buffer
     * goes to a channel output as it is when the dtype stays.
     */
    public void append(ByteBuffer src) throws IOException {
        if (src.hasArray()) {
            append(src.array(), src.arrayOffset() + src.position(), src.remaining());
            src.position(src.limit());
            return;
        }
        if (current != null && source == current.dtype() && out instanceof WritableByteChannel channel) {
            count(src.remaining());
            while (src.hasRemaining()) {
                channel.write(src);
            }
            return;
        }
        byte[] scratch = new byte[Math.min(src.remaining(), CONVERT_BYTES)];
        while (src.hasRemaining()) {
            int n = Math.min(scratch.length, src.remaining());
            src.get(scratch, 0, n);
            append(scratch, 0, n);
        }
    }

    /** Counts {@code len} more bytes of the current tensor, which must fit its shape. */
    private void count(long len) throws IOException {
        if (current == null) {
            throw new IllegalStateException("append before begin");
        }
        if (sourceBytes + len > expectedSourceBytes) {
            throw wrongLength(sourceBytes + len);
        }
        sourceBytes += len;
    }

    private void convert(byte[] b, int off, int len) throws IOException {
        int width = source.bits() / 8;
        if (converted == null) {
            converted = ByteBuffer.allocate(CONVERT_BYTES * 2);
        }
        // Complete an element split across appends first.
        while (carried > 0 && len > 0) {
            carry[carried++] = b[off++];
            len--;
            if (carried == width) {
                converted.clear();
                FloatConversion.convert(source, current.dtype(), ByteBuffer.wrap(carry, 0, width), converted);
                out.write(converted.array(), 0, converted.position());
                carried = 0;
            }
        }
        while (len >= width) {
            int n = Math.min(len - len % width, CONVERT_BYTES / width * width);
            converted.clear();
            FloatConversion.convert(source, current.dtype(), ByteBuffer.wrap(b, off, n), converted);
            out.write(converted.array(), 0, converted.position());
            off += n;
            len -= n;
        }
        System.arraycopy(b, off, carry, 0, len);
        carried = len;
    }

    /** Ends the current tensor; its bytes must be complete. */
    public void end() throws IOException {
        if (current != null && (sourceBytes != expectedSourceBytes || carried != 0)) {
            throw wrongLength(sourceBytes);
        }
        current = null;
    }

    /** Ends the shard: every planned tensor must have been written. */
    public void finish() throws IOException {
        end();
        if (index + 1 != entries.size()) {
            throw new MalformedTensorFileException(
                    location,
                    entries.get(index + 1).name(),
                    "no data arrived for this tensor (" + (entries.size() - index - 1)
                            + " tensors of the shard are missing)");
        }
        out.flush();
    }

    private MalformedTensorFileException wrongLength(long bytes) {
        return new MalformedTensorFileException(
                location,
                current.name(),
                "its data holds " + bytes
                        + " bytes but shape " + java.util.Arrays.toString(current.shape()) + " of " + source + " needs "
                        + expectedSourceBytes
                        + ". Check the data, dtype and shape columns, and that no chunk is missing.");
    }
}
