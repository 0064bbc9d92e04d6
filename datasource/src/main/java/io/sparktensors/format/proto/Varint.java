package io.sparktensors.format.proto;

import io.sparktensors.errors.MalformedTensorFileException;
import java.io.IOException;

/**
 * Base-128 varints, the one decoding of them for every format: protobuf fields, TensorFlow table block
 * handles and entry lengths, ONNX packed integer tensors. A varint is at most {@value #MAX_BYTES} bytes and
 * must fit 64 bits: the tenth byte may only hold the top bit, so longer or larger encodings are refused
 * rather than wrapped around.
 *
 * <p>{@link #read} decodes one varint from a {@link ByteSource}. Decoders that cannot stop between calls
 * (the packed tensor decoder keeps a varint's state across its read chunks) use the step functions
 * {@link #overflows}, {@link #add} and {@link #last}, which {@link #read} is made of.
 */
public final class Varint {
    /** Most bytes a 64-bit varint takes. */
    public static final int MAX_BYTES = 10;

    /** Builds the error for a fault in a varint, adding what the caller knows (file, message, block). */
    @FunctionalInterface
    public interface Faults {
        MalformedTensorFileException fault(String what);
    }

    private Varint() {}

    /** Decodes the varint at {@code in}'s position, which must end before {@code end}. */
    public static long read(ByteSource in, long end, Faults faults) throws IOException {
        long at = in.position();
        long value = 0;
        for (int shift = 0; ; shift += 7) {
            if (in.position() >= end) {
                throw faults.fault("a varint at byte " + at + " runs past the end at byte " + end);
            }
            int b = in.readByte();
            if (overflows(shift, b)) {
                throw faults.fault("a varint overflows 64 bits (at byte " + at + ")");
            }
            value = add(value, shift, b);
            if (last(b)) {
                return value;
            }
        }
    }

    /**
     * Whether the byte {@code b} (0 to 255), as the group at bit {@code shift}, would take the value past 64
     * bits or the varint past {@value #MAX_BYTES} bytes.
     */
    public static boolean overflows(int shift, int b) {
        return shift == 63 && b > 1;
    }

    /** {@code value} with the byte {@code b}'s seven bits placed at {@code shift}. */
    public static long add(long value, int shift, int b) {
        return value | (long) (b & 0x7f) << shift;
    }

    /** Whether {@code b} ends its varint. */
    public static boolean last(int b) {
        return b < 0x80;
    }
}
