package io.sparktensors.format.pytorch;

import io.sparktensors.format.TensorDecoder;
import io.sparktensors.io.SeekableInput;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A tensor whose stored bytes are not found as they are in the file (a numpy array that a protocol 2 pickle
 * holds as a latin-1 string), carried in the listing itself and read through a view of them as if they were
 * a storage at offset 0. Bounded by {@link PyTorchReader#MAX_INLINE_BYTES}.
 *
 * @param bytes the array's raw bytes
 * @param view how to read them (strides of a column-major array, byte swapping)
 */
record InlineDecoder(byte[] bytes, StorageViewDecoder view) implements TensorDecoder {
    private static final long serialVersionUID = 1L;

    @Override
    public void decode(SeekableInput in, long rowStart, long rowCount, ByteBuffer out) throws IOException {
        view.decode(new PickleInput.BytesInput(bytes), rowStart, rowCount, out);
    }
}
