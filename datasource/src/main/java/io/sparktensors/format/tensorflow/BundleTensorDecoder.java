package io.sparktensors.format.tensorflow;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.TensorDecoder;
import io.sparktensors.io.SeekableInput;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Copies a tensor's rows from its range of a TensorFlow data shard, byte-swapping the elements of a
 * big-endian bundle. A read of the whole tensor also verifies the entry's masked CRC32C; a read of some
 * rows cannot (the checksum covers the whole tensor), so its bytes are copied unverified, unless the reader
 * feeds every piece in order to {@link #newCheck()} (the re-shard job and the writer do).
 *
 * @param location the data shard, for error messages
 * @param tensor the tensor's name, for error messages
 * @param offset first byte of the tensor in the shard
 * @param length bytes of the tensor
 * @param rows rows along dimension 0 (1 for a 0-d tensor)
 * @param swapWidth bytes reversed as one unit for a big-endian bundle; 1 when nothing is swapped
 * @param maskedCrc32c TensorFlow's masked CRC32C of the stored bytes
 */
public record BundleTensorDecoder(
        String location, String tensor, long offset, long length, long rows, int swapWidth, int maskedCrc32c)
        implements TensorDecoder {

    @Override
    public void decode(SeekableInput in, long rowStart, long rowCount, ByteBuffer out) throws IOException {
        long rowBytes = rows == 0 ? 0 : length / rows;
        if (rowStart < 0 || rowCount < 0 || rowStart + rowCount > rows || out.remaining() != rowCount * rowBytes) {
            throw new IllegalArgumentException("rows " + rowStart + "+" + rowCount + " of " + rows + " into "
                    + out.remaining() + " bytes for tensor " + tensor);
        }
        ByteBuffer stored = out.slice();
        int wanted = out.remaining();
        long position = offset + rowStart * rowBytes;
        try {
            in.readFully(position, out);
        } catch (EOFException e) {
            throw new MalformedTensorFileException(
                    location,
                    tensor,
                    "the data shard ends before the tensor's "
                            + wanted + " bytes at offset " + position + "; it was truncated after listing. Copy the "
                            + "checkpoint again.",
                    e);
        }
        if (rowStart == 0 && rowCount == rows) {
            CRC32C crc = new CRC32C();
            crc.update(stored.duplicate());
            if (TableReader.mask(crc.getValue()) != maskedCrc32c) {
                throw new MalformedTensorFileException(
                        location,
                        tensor,
                        "the tensor's bytes fail their CRC32C "
                                + "checksum. The data shard is corrupt; copy the checkpoint again from its source.");
            }
        }
        if (swapWidth > 1) {
            swap(stored);
        }
    }

    /** The CRC32C over the stored bytes, which are the decoded ones for a little-endian bundle. */
    @Override
    public Check newCheck() {
        if (swapWidth > 1) {
            return null; // the checksum covers the stored big-endian bytes, which the pieces no longer are
        }
        CRC32C crc = new CRC32C();
        return new Check() {
            @Override
            public void update(byte[] bytes, int off, int len) {
                crc.update(bytes, off, len);
            }

            @Override
            public void finish() throws MalformedTensorFileException {
                if (TableReader.mask(crc.getValue()) != maskedCrc32c) {
                    throw new MalformedTensorFileException(
                            location,
                            tensor,
                            "the tensor's bytes fail their CRC32C "
                                    + "checksum. The data shard is corrupt; copy the checkpoint again from its source.");
                }
            }
        };
    }

    private void swap(ByteBuffer b) {
        for (int at = 0; at + swapWidth <= b.limit(); at += swapWidth) {
            for (int i = 0, j = swapWidth - 1; i < j; i++, j--) {
                byte t = b.get(at + i);
                b.put(at + i, b.get(at + j));
                b.put(at + j, t);
            }
        }
    }
}
