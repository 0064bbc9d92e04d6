package io.sparktensors.format;

import java.io.Serializable;
import java.util.Objects;

/**
 * Where a tensor's bytes are.
 *
 * <p>Without a decoder the tensor is the plain run {@code [offset, offset + length)} of the file at
 * {@code location}, already in the safetensors encoding (row-major, little-endian), so readers copy it
 * as it is and may split it at any row. With a decoder, {@code length} is the length of the decoded
 * tensor, {@code offset} the first stored byte (readers visit a file in offset order) and the decoder
 * produces the bytes; it may read other files besides this one through {@link TensorDecoder.Files} (a DCP
 * tensor's chunks in several rank files).
 *
 * @param location the file holding the bytes (a sibling of the checkpoint file for TF data shards and
 *     ONNX external data), as {@link io.sparktensors.io.InputFile#location()} names it
 * @param fileLength that file's length when it was listed; readers never read beyond it
 * @param offset first byte of the stored tensor in that file
 * @param length bytes of the tensor in the safetensors encoding
 * @param decoder how to decode stored bytes, or null when they are the encoding already
 */
public record TensorData(String location, long fileLength, long offset, long length, TensorDecoder decoder)
        implements Serializable {

    public TensorData {
        Objects.requireNonNull(location, "location");
        if (offset < 0 || length < 0 || fileLength < 0) {
            throw new IllegalArgumentException("bad range " + offset + "+" + length + " of " + location);
        }
        if (decoder == null && offset + length > fileLength) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " beyond the end of " + location);
        }
    }

    /** A plain run of bytes. */
    public static TensorData plain(String location, long fileLength, long offset, long length) {
        return new TensorData(location, fileLength, offset, length, null);
    }

    public boolean isPlain() {
        return decoder == null;
    }
}
