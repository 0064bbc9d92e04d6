package io.sparktensors.format.pytorch;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.TensorDecoder;
import io.sparktensors.io.SeekableInput;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Gathers a strided view of a PyTorch storage (a transposed or sliced tensor) into the row-major
 * little-endian safetensors encoding, swapping bytes when the storage is big-endian. Reads runs of
 * contiguous elements through one window of at most {@link #WINDOW_BYTES} of the storage, so memory stays
 * bounded however large the storage; a view whose rows span less than the window is read with one
 * positioned read. Splittable along dimension 0.
 *
 * @param location the file holding the storage
 * @param tensor the tensor's name, for messages
 * @param storageOffset file offset of the storage's first byte
 * @param storageBytes the storage's length in bytes
 * @param elementSize bytes per element
 * @param swapUnit 0 for little-endian storages, else the bytes of each value to reverse (the element size,
 *     or half of it for complex numbers)
 * @param offset the view's first element in the storage
 * @param size the view's shape
 * @param stride the view's strides, in elements
 */
public record StorageViewDecoder(
        String location,
        String tensor,
        long storageOffset,
        long storageBytes,
        int elementSize,
        int swapUnit,
        long offset,
        long[] size,
        long[] stride)
        implements TensorDecoder {
    private static final long serialVersionUID = 1L;
    /** Most bytes of the storage held in memory at once. */
    public static final int WINDOW_BYTES = 16 << 20;
    /** Bytes staged before they are copied to the output. */
    private static final int STAGE_BYTES = 64 << 10;

    public StorageViewDecoder {
        size = size.clone();
        stride = stride.clone();
    }

    @Override
    public long[] size() {
        return size.clone();
    }

    @Override
    public long[] stride() {
        return stride.clone();
    }

    @Override
    public void decode(SeekableInput in, long rowStart, long rowCount, ByteBuffer out) throws IOException {
        int rank = size.length;
        long rowElements = 1;
        for (int d = 1; d < rank; d++) {
            rowElements *= size[d];
        }
        if (out.remaining() != rowCount * rowElements * elementSize) {
            throw new IllegalArgumentException(
                    "output of " + out.remaining() + " bytes for " + rowCount + " rows of " + tensor);
        }
        if (out.remaining() == 0) {
            return;
        }
        Gather g = new Gather(in, out);
        if (rank == 0) {
            g.spanEnd = (offset + 1) * elementSize;
            g.copy(offset * elementSize, elementSize);
            g.flush();
            return;
        }
        // Dimensions d..rank-1 whose strides make them one contiguous run of elements.
        long run = 1;
        int d = rank - 1;
        while (d >= 1 && (stride[d] == run || size[d] == 1)) {
            run *= size[d];
            d--;
        }
        long last = 0;
        for (int i = 1; i < rank; i++) {
            last += (size[i] - 1) * stride[i];
        }
        g.spanEnd = (offset + (rowStart + rowCount - 1) * stride[0] + last + 1) * elementSize;
        long[] index = new long[rank];
        for (long r = rowStart; r < rowStart + rowCount; r++) {
            Arrays.fill(index, 0);
            do {
                long element = offset + r * stride[0];
                for (int i = 1; i <= d; i++) {
                    element += index[i] * stride[i];
                }
                g.copy(element * elementSize, run * elementSize);
            } while (next(index, d));
        }
        g.flush();
    }

    /** Advances the odometer over dimensions 1..d; false when it wraps. */
    private boolean next(long[] index, int d) {
        for (int i = d; i >= 1; i--) {
            if (++index[i] < size[i]) {
                return true;
            }
            index[i] = 0;
        }
        return false;
    }

    /** Copies runs of storage bytes to the output through a window and a staging buffer. */
    private final class Gather {
        private final SeekableInput in;
        private final ByteBuffer out;
        private byte[] window;
        private long windowStart;
        private int windowLength;
        private final byte[] stage;
        private int staged;
        long spanEnd;

        Gather(SeekableInput in, ByteBuffer out) {
            this.in = in;
            this.out = out;
            this.stage = new byte[(int) Math.min(STAGE_BYTES, out.remaining())];
        }

        /** Copies storage bytes {@code [start, start + length)}. */
        void copy(long start, long length) throws IOException {
            while (length > 0) {
                if (window == null || start < windowStart || start >= windowStart + windowLength) {
                    refill(start);
                }
                int n = (int) Math.min(length, windowStart + windowLength - start);
                int from = (int) (start - windowStart);
                for (int done = 0; done < n; ) {
                    if (staged == stage.length) {
                        flush();
                    }
                    int k = Math.min(n - done, stage.length - staged);
                    System.arraycopy(window, from + done, stage, staged, k);
                    staged += k;
                    done += k;
                }
                start += n;
                length -= n;
            }
        }

        private void refill(long start) throws IOException {
            long end = Math.min(spanEnd, storageBytes);
            int n = (int) Math.min(WINDOW_BYTES, end - start);
            if (n <= 0) {
                throw new MalformedTensorFileException(location, tensor, "the view reads beyond its storage");
            }
            if (window == null || window.length < n) {
                window = new byte[n];
            }
            try {
                in.readFully(storageOffset + start, window, 0, n);
            } catch (EOFException e) {
                throw new MalformedTensorFileException(
                        location,
                        tensor,
                        "the file ends inside the tensor's storage."
                                + " It is truncated or changed since it was listed; copy it again.",
                        e);
            }
            windowStart = start;
            windowLength = n;
        }

        void flush() {
            if (swapUnit > 1) {
                for (int i = 0; i < staged; i += swapUnit) {
                    for (int a = i, b = i + swapUnit - 1; a < b; a++, b--) {
                        byte t = stage[a];
                        stage[a] = stage[b];
                        stage[b] = t;
                    }
                }
            }
            out.put(stage, 0, staged);
            staged = 0;
        }
    }
}
