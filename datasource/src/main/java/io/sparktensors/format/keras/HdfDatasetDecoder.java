package io.sparktensors.format.keras;

import io.jhdf.HdfFile;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import io.jhdf.dataset.DatasetBase;
import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.TensorDecoder;
import io.sparktensors.io.SeekableInput;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A chunked (possibly compressed) or compact HDF5 dataset, whose bytes are not one run in the file: the
 * executor opens the HDF5 file again with jHDF, finds the dataset by its path (never through a link) and
 * lets jHDF assemble and decompress it whole, so this decoder is not splittable. Listing refuses datasets
 * over {@link KerasReader#MAX_ASSEMBLED_BYTES}.
 *
 * @param location the file holding the HDF5 file
 * @param tensor the tensor's name, for error messages
 * @param start first byte of the HDF5 file in {@code location} (non-zero inside a {@code .keras} zip)
 * @param length length of the HDF5 file
 * @param path the dataset's HDF5 path, without the leading {@code /}
 * @param budget most bytes jHDF may read (the listing's structure limit plus the dataset's stored bytes)
 * @param rowBytes bytes of one row along dimension 0 (the whole tensor for a 0-d tensor)
 * @param totalBytes bytes of the whole tensor
 * @param elementSize bytes of one element
 * @param bigEndian whether each element's bytes are reversed to little-endian
 */
record HdfDatasetDecoder(
        String location,
        String tensor,
        long start,
        long length,
        String path,
        long budget,
        long rowBytes,
        long totalBytes,
        int elementSize,
        boolean bigEndian)
        implements TensorDecoder {
    private static final long serialVersionUID = 1L;

    @Override
    public boolean splittable() {
        return false;
    }

    @Override
    public void decode(SeekableInput in, long rowStart, long rowCount, ByteBuffer out) throws IOException {
        long from = Math.multiplyExact(rowStart, rowBytes);
        long count = Math.multiplyExact(rowCount, rowBytes);
        if (count != out.remaining() || from + count > totalBytes) {
            throw new IllegalArgumentException(rowCount + " rows from " + rowStart + " of " + tensor
                    + " do not fit its " + totalBytes + " bytes or the " + out.remaining() + " bytes asked for");
        }
        ByteBuffer data;
        try {
            data = find(HdfStorage.open(in, location, start, length, budget)).getDataBuffer();
        } catch (RuntimeException | StackOverflowError e) {
            throw HdfStorage.unwrap(e, location, tensor);
        }
        if (data.remaining() != totalBytes) {
            throw new MalformedTensorFileException(
                    location,
                    tensor,
                    "the dataset '" + path + "' now holds " + data.remaining() + " bytes, not the " + totalBytes
                            + " it held when listed. List the file again.");
        }
        int first = data.position() + (int) from;
        if (!bigEndian) {
            out.put(data.slice(first, (int) count));
            return;
        }
        for (int i = first; i < first + count; i += elementSize) {
            for (int j = elementSize - 1; j >= 0; j--) {
                out.put(data.get(i + j));
            }
        }
    }

    private DatasetBase find(HdfFile file) throws MalformedTensorFileException {
        Node node = file;
        for (String segment : path.split("/")) {
            Node child =
                    node instanceof Group g && !node.isLink() ? g.getChildren().get(segment) : null;
            if (child == null || child.isLink()) {
                node = null;
                break;
            }
            node = child;
        }
        if (node instanceof DatasetBase d) {
            return d;
        }
        throw new MalformedTensorFileException(
                location,
                tensor,
                "the dataset '" + path + "' is gone or is no "
                        + "longer a plain dataset; the file changed after it was listed. List it again.");
    }
}
