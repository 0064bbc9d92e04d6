package io.sparktensors.format.dcp;

import io.sparktensors.format.TensorDecoder;
import io.sparktensors.format.pytorch.StorageViewDecoder;
import io.sparktensors.io.SeekableInput;
import java.io.IOException;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Assembles rows of a full tensor from the chunks a DCP checkpoint stores it in, each a row-major
 * little-endian byte range of some rank file, or a strided view of one (a transposed or channels_last local
 * shard, gathered by a {@link StorageViewDecoder}); found and checked when the checkpoint was listed. A chunk
 * covering whole rows (a {@code Shard(0)} shard) is read straight into the output; any other chunk
 * ({@code Shard(1)}, a block of a 2-D mesh) is read a block of its rows at a time, at most
 * {@link #BLOCK_BYTES} or one of its rows, and scattered into place. Memory is bounded by that block (and a
 * view's storage window), never by the tensor. Splittable along dimension 0: a run of rows touches only the
 * chunks it overlaps.
 *
 * @param tensor the tensor's name, for messages
 * @param elementSize bytes per element
 * @param shape the full tensor's shape
 * @param location the file the tensor's data names, whose open input {@code decode} is given
 * @param pieces the chunks, covering the tensor exactly once
 */
record ChunkAssemblyDecoder(String tensor, int elementSize, long[] shape, String location, List<Piece> pieces)
        implements TensorDecoder {
    private static final long serialVersionUID = 1L;
    /** Most bytes of a strided chunk read at once (more only when one of its rows is larger). */
    static final int BLOCK_BYTES = 1 << 20;

    /**
     * A chunk's place in the tensor and the range of a file holding its bytes, row-major and contiguous.
     *
     * @param dataOffset the first byte of the chunk (or of its storage) in {@code location}
     * @param view how to gather the chunk's rows when it is a strided view of its storage, else null
     */
    record Piece(
            String location, long fileLength, long dataOffset, long[] offsets, long[] sizes, StorageViewDecoder view)
            implements Serializable {
        private static final long serialVersionUID = 1L;

        Piece {
            offsets = offsets.clone();
            sizes = sizes.clone();
        }
    }

    ChunkAssemblyDecoder {
        shape = shape.clone();
        pieces = List.copyOf(pieces);
    }

    /** Runs of whole rows in row order (every chunk spans dimensions 1.. and is stored contiguously): plain runs. */
    @Override
    public List<FileRun> plainRuns() {
        List<FileRun> runs = new ArrayList<>(pieces.size());
        long row = 0;
        for (Piece p : pieces) { // in row-major order of their offsets
            if (p.view() != null || shape.length == 0 || p.offsets[0] != row) {
                return null;
            }
            for (int d = 1; d < shape.length; d++) {
                if (p.sizes[d] != shape[d]) {
                    return null;
                }
            }
            long bytes = elementSize * product(p.sizes, 0, shape.length);
            if (bytes > 0) {
                runs.add(new FileRun(p.location(), p.fileLength(), p.dataOffset(), bytes));
            }
            row += p.sizes[0];
        }
        return row == shape[0] ? runs : null;
    }

    @Override
    public void decode(SeekableInput in, long rowStart, long rowCount, ByteBuffer out) throws IOException {
        decode(in, null, rowStart, rowCount, out);
    }

    @Override
    public void decode(SeekableInput in, Files files, long rowStart, long rowCount, ByteBuffer out) throws IOException {
        int rank = shape.length;
        long rowBytes = elementSize * product(shape, 1, rank);
        if (out.remaining() != rowCount * rowBytes) {
            throw new IllegalArgumentException(
                    "output of " + out.remaining() + " bytes for " + rowCount + " rows of " + tensor);
        }
        int base = out.position();
        long rowEnd = rowStart + rowCount;
        for (Piece p : pieces) {
            long first = rank == 0 ? 0 : p.offsets[0];
            long last = rank == 0 ? 1 : first + p.sizes[0];
            long from = Math.max(rowStart, first);
            long to = Math.min(rowEnd, last);
            long chunkRowBytes = elementSize * product(p.sizes, 1, rank);
            if (from >= to || chunkRowBytes == 0) {
                continue;
            }
            SeekableInput src = open(in, files, p);
            if (chunkRowBytes == rowBytes) { // whole rows: the same bytes in the same order as the output
                ByteBuffer dst = out.slice(base + (int) ((from - rowStart) * rowBytes), (int) ((to - from) * rowBytes));
                readRows(src, p, from - first, to - from, chunkRowBytes, dst);
            } else {
                scatter(
                        src,
                        p,
                        from - first,
                        chunkRowBytes,
                        (from - rowStart) * rowBytes,
                        to - from,
                        rowBytes,
                        out,
                        base);
            }
        }
        out.position(out.limit());
    }

    private SeekableInput open(SeekableInput in, Files files, Piece p) throws IOException {
        if (p.location.equals(location)) {
            return in;
        }
        if (files == null) {
            throw new IOException("Cannot read tensor '" + tensor + "': its chunks lie in several files ('" + location
                    + "', '" + p.location + "') and the caller opens only one");
        }
        return files.open(p.location, p.fileLength);
    }

    /**
     * Copies {@code rows} rows of a chunk that covers part of each output row: reads blocks of whole chunk
     * rows, then each row's runs (the chunk's contiguous extent of dimension {@code k} times the full
     * dimensions after it) to their place in the output.
     */
    private void scatter(
            SeekableInput src,
            Piece p,
            long chunkRow,
            long chunkRowBytes,
            long dstStart,
            long rows,
            long rowBytes,
            ByteBuffer out,
            int base)
            throws IOException {
        int rank = shape.length;
        int k = rank - 1; // dimensions after k are whole in the chunk
        while (k > 1 && p.offsets[k] == 0 && p.sizes[k] == shape[k]) {
            k--;
        }
        long runBytes = elementSize * p.sizes[k] * product(shape, k + 1, rank);
        long[] strides = new long[rank]; // output bytes per step along each dimension
        for (int d = 1; d < rank; d++) {
            strides[d] = elementSize * product(shape, d + 1, rank);
        }
        int rowsPerBlock = (int) Math.max(1, Math.min(rows, BLOCK_BYTES / chunkRowBytes));
        byte[] block = new byte[(int) (rowsPerBlock * chunkRowBytes)];
        long[] index = new long[rank];
        for (long row = 0; row < rows; row += rowsPerBlock) {
            int n = (int) Math.min(rowsPerBlock, rows - row);
            readRows(src, p, chunkRow + row, n, chunkRowBytes, ByteBuffer.wrap(block, 0, (int) (n * chunkRowBytes)));
            for (int r = 0; r < n; r++) {
                long dstRow = dstStart + (row + r) * rowBytes;
                int at = (int) (r * chunkRowBytes);
                java.util.Arrays.fill(index, 0);
                for (long copied = 0; copied < chunkRowBytes; copied += runBytes) {
                    long dst = dstRow;
                    for (int d = 1; d <= k; d++) {
                        dst += (p.offsets[d] + index[d]) * strides[d];
                    }
                    out.put(base + (int) dst, block, at, (int) runBytes);
                    at += (int) runBytes;
                    for (int d = k - 1; d >= 1 && ++index[d] == p.sizes[d]; d--) { // next run: odometer over 1..k-1
                        index[d] = 0;
                    }
                }
            }
        }
    }

    /** Rows {@code [row, row + count)} of a chunk, row-major, into {@code dst} (exactly their bytes). */
    private static void readRows(SeekableInput src, Piece p, long row, long count, long chunkRowBytes, ByteBuffer dst)
            throws IOException {
        if (p.view == null) {
            src.readFully(p.dataOffset + row * chunkRowBytes, dst);
        } else {
            p.view.decode(src, row, count, dst);
        }
    }

    private static long product(long[] dims, int from, int to) {
        long n = 1;
        for (int d = from; d < to; d++) {
            n *= dims[d];
        }
        return n;
    }
}
