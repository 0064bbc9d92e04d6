package io.sparktensors.format.onnx;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.TensorDecoder;
import io.sparktensors.format.proto.Varint;
import io.sparktensors.io.SeekableInput;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Decodes an ONNX tensor stored as packed varints ({@code int32_data}, {@code int64_data},
 * {@code uint64_data}) into little-endian values of {@code width} bytes. Varints have no fixed size, so a
 * row cannot be found without reading all before it: the decoder is not splittable, and it reads the whole
 * field every time, checking each value's range and the element count. A varint may straddle two read
 * chunks, so the decoder keeps its state across them and uses {@link Varint}'s step functions rather than
 * its one-varint read; the loop stays over a plain array for speed (it decodes whole int64 tensors).
 *
 * @param location the .onnx file
 * @param tensor the tensor's name, for error messages
 * @param offset the field's first byte in the file
 * @param storedLength the field's length in bytes
 * @param rows the tensor's dimension 0 (1 for a scalar)
 * @param elements the tensor's element count
 * @param width bytes per output element
 * @param min smallest value allowed
 * @param max largest value allowed
 */
record VarintDecoder(
        String location,
        String tensor,
        long offset,
        long storedLength,
        long rows,
        long elements,
        int width,
        long min,
        long max)
        implements TensorDecoder {
    private static final long serialVersionUID = 1L;
    /** Bytes read from the file at once. */
    private static final int CHUNK_BYTES = 64 * 1024;

    @Override
    public boolean splittable() {
        return false;
    }

    @Override
    public void decode(SeekableInput in, long rowStart, long rowCount, ByteBuffer out) throws IOException {
        long perRow = rows == 0 ? 0 : elements / rows;
        long first = rowStart * perRow;
        long last = first + rowCount * perRow;
        byte[] chunk = new byte[(int) Math.min(CHUNK_BYTES, storedLength)];
        long count = 0;
        long value = 0;
        int shift = 0;
        for (long done = 0; done < storedLength; ) {
            int n = (int) Math.min(chunk.length, storedLength - done);
            try {
                in.readFully(offset + done, chunk, 0, n);
            } catch (EOFException e) {
                throw new MalformedTensorFileException(
                        location,
                        tensor,
                        "the file ends inside the tensor's values; it " + "was truncated after it was listed.",
                        e);
            }
            done += n;
            for (int i = 0; i < n; i++) {
                int b = chunk[i] & 0xff;
                if (Varint.overflows(shift, b)) {
                    throw fault("value " + count + " overflows 64 bits");
                }
                value = Varint.add(value, shift, b);
                shift += 7;
                if (Varint.last(b)) {
                    if (count >= elements) {
                        throw fault("the field holds more than the " + elements + " values its shape needs");
                    }
                    if (value < min || value > max) {
                        throw fault("value " + count + " is " + value + ", outside [" + min + ", " + max
                                + "] for its type");
                    }
                    if (count >= first && count < last) {
                        for (int k = 0; k < width; k++) {
                            out.put((byte) (value >>> (8 * k)));
                        }
                    }
                    count++;
                    value = 0;
                    shift = 0;
                }
            }
        }
        if (shift != 0 || count != elements) {
            throw fault("the field holds " + count + " whole values but the shape needs " + elements);
        }
    }

    private MalformedTensorFileException fault(String what) {
        return new MalformedTensorFileException(
                location, tensor, "its packed varint values are corrupt: " + what + ". Re-export the model.");
    }
}
