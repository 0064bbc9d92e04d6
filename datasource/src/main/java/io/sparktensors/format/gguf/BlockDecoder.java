package io.sparktensors.format.gguf;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.FloatConversion;
import io.sparktensors.format.LittleEndian;
import io.sparktensors.format.TensorDecoder;
import io.sparktensors.io.SeekableInput;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Dequantizes a Q8_0 or Q4_0 GGUF tensor to little-endian F32. Blocks have a fixed size, so any run of rows
 * (even one inside a block) decodes on its own: the decoder reads only the blocks that cover it.
 *
 * <p>Q8_0 block: an F16 scale d, then 32 int8 q; x = d * q. Q4_0 block: an F16 scale d, then 16 bytes whose low
 * nibbles are elements 0..15 and high nibbles elements 16..31; x = (nibble - 8) * d.
 *
 * @param location the .gguf file
 * @param tensor the tensor's name, for error messages
 * @param type Q8_0 or Q4_0
 * @param offset the first block's position in the file
 * @param rows the output shape's dimension 0 (1 for a 0-d tensor)
 * @param elements the tensor's element count, a multiple of 32
 */
record BlockDecoder(String location, String tensor, GgmlType type, long offset, long rows, long elements)
        implements TensorDecoder {
    private static final long serialVersionUID = 1L;
    /** Blocks read from the file at once. */
    private static final int CHUNK_BLOCKS = 4096;

    private static final int BLOCK = 32;

    @Override
    public void decode(SeekableInput in, long rowStart, long rowCount, ByteBuffer out) throws IOException {
        long perRow = rows == 0 ? 0 : elements / rows;
        long first = rowStart * perRow;
        long last = first + rowCount * perRow;
        ByteOrder order = out.order();
        out.order(ByteOrder.LITTLE_ENDIAN);
        try {
            float[] values = new float[BLOCK];
            long block = first / BLOCK;
            long endBlock = (last + BLOCK - 1) / BLOCK;
            byte[] chunk = new byte[(int) Math.min(CHUNK_BLOCKS, Math.max(endBlock - block, 0)) * type.blockBytes];
            while (block < endBlock) {
                int n = (int) Math.min(CHUNK_BLOCKS, endBlock - block);
                read(in, offset + block * type.blockBytes, chunk, n * type.blockBytes);
                for (int b = 0; b < n; b++, block++) {
                    dequantize(chunk, b * type.blockBytes, values);
                    long base = block * BLOCK;
                    for (int j = (int) Math.max(0, first - base); j < BLOCK && base + j < last; j++) {
                        out.putFloat(values[j]);
                    }
                }
            }
        } finally {
            out.order(order);
        }
    }

    private void dequantize(byte[] buf, int at, float[] values) {
        float d = FloatConversion.f16ToF32(LittleEndian.getUnsignedShort(buf, at));
        if (type == GgmlType.Q8_0) {
            for (int j = 0; j < BLOCK; j++) {
                values[j] = buf[at + 2 + j] * d;
            }
        } else {
            for (int j = 0; j < BLOCK / 2; j++) {
                int q = buf[at + 2 + j] & 0xff;
                values[j] = ((q & 0x0f) - 8) * d;
                values[j + BLOCK / 2] = ((q >>> 4) - 8) * d;
            }
        }
    }

    private void read(SeekableInput in, long position, byte[] buf, int n) throws IOException {
        try {
            in.readFully(position, buf, 0, n);
        } catch (EOFException e) {
            throw new MalformedTensorFileException(
                    location,
                    tensor,
                    "the file ends inside the tensor's blocks; it was " + "truncated after it was listed.",
                    e);
        }
    }
}
