package io.sparktensors.format.keras;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.TensorDecoder;
import io.sparktensors.io.SeekableInput;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A contiguous big-endian HDF5 dataset: rows are read from their place in the file and each element's
 * bytes reversed. Any run of rows decodes on its own.
 *
 * @param location the file holding the dataset
 * @param tensor the tensor's name, for error messages
 * @param offset first byte of the dataset in that file
 * @param rowBytes bytes of one row along dimension 0 (the whole tensor for a 0-d tensor)
 * @param elementSize bytes of one element: 2, 4 or 8
 */
record ByteSwapDecoder(String location, String tensor, long offset, long rowBytes, int elementSize)
        implements TensorDecoder {
    private static final long serialVersionUID = 1L;
    /** Rows are read and swapped through a heap buffer of at most this size. */
    private static final int BLOCK_BYTES = 1 << 20;

    ByteSwapDecoder {
        if (offset < 0
                || rowBytes < 0
                || (elementSize != 2 && elementSize != 4 && elementSize != 8)
                || rowBytes % elementSize != 0) {
            throw new IllegalArgumentException("bad byte-swap decoder for " + tensor + " in " + location);
        }
    }

    @Override
    public void decode(SeekableInput in, long rowStart, long rowCount, ByteBuffer out) throws IOException {
        long total = Math.multiplyExact(rowCount, rowBytes);
        if (total != out.remaining()) {
            throw new IllegalArgumentException(
                    rowCount + " rows of " + tensor + " take " + total + " bytes, not " + out.remaining());
        }
        long position = Math.addExact(offset, Math.multiplyExact(rowStart, rowBytes));
        byte[] block = new byte[(int) Math.min(total, BLOCK_BYTES - BLOCK_BYTES % elementSize)];
        for (long done = 0; done < total; ) {
            int n = (int) Math.min(block.length, total - done);
            try {
                in.readFully(position + done, block, 0, n);
            } catch (EOFException e) {
                throw new MalformedTensorFileException(
                        location,
                        tensor,
                        "the file ends inside the tensor's data. "
                                + "It was truncated after it was listed; list it again.",
                        e);
            }
            for (int i = 0; i < n; i += elementSize) {
                for (int j = elementSize - 1; j >= 0; j--) {
                    out.put(block[i + j]);
                }
            }
            done += n;
        }
    }
}
