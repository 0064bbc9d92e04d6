package io.sparktensors.format;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.io.SeekableInput;
import java.io.IOException;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Produces a tensor's bytes in the safetensors encoding from how a format stores them: a strided or
 * big-endian PyTorch storage view, packed varints in an ONNX initializer, quantized GGUF blocks. Decoders
 * are small immutable values shipped to executors; they hold everything they need but the open file.
 */
public interface TensorDecoder extends Serializable {

    /**
     * Writes rows {@code [rowStart, rowStart + rowCount)} along dimension 0 (for a 0-d tensor: row 0, count
     * 1) into {@code out}, which has exactly that many bytes remaining.
     *
     * @param in the open file named by the tensor's {@link TensorData#location()}
     * @throws MalformedTensorFileException when the stored bytes break the format (name file and tensor)
     */
    void decode(SeekableInput in, long rowStart, long rowCount, ByteBuffer out) throws IOException;

    /**
     * Writes rows as {@link #decode(SeekableInput, long, long, ByteBuffer)} does, for a tensor whose bytes lie in
     * several files (a DCP tensor's chunks, one per rank file): the decoder opens the files other than
     * {@code in}'s through {@code files}. The default ignores {@code files}.
     *
     * @param files opens the other files; the caller owns (and closes) what it opens
     */
    default void decode(SeekableInput in, Files files, long rowStart, long rowCount, ByteBuffer out)
            throws IOException {
        decode(in, rowStart, rowCount, out);
    }

    /** Opens, for a decoder, a file other than the one its tensor's data names. */
    interface Files {
        /**
         * The open file at {@code location}, of the length it had when it was listed; owned by the caller, who
         * may hand the same one to later calls.
         */
        SeekableInput open(String location, long fileLength) throws IOException;
    }

    /**
     * Whether any run of rows decodes on its own, so readers may split a large tensor into chunks. When
     * false the tensor is decoded whole, in one chunk.
     */
    default boolean splittable() {
        return true;
    }

    /**
     * The decoded bytes as plain runs of files, in order, when they are exactly that (a tensor split by rows
     * among files, as FSDP's {@code Shard(0)} saves it), so a copy needs no decoding; else null (the default).
     */
    default List<FileRun> plainRuns() {
        return null;
    }

    /** {@code length} bytes at {@code offset} of the file at {@code location}, as they are. */
    record FileRun(String location, long fileLength, long offset, long length) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /**
     * A check over the whole tensor's decoded bytes, for a reader that decodes it piece by piece in order, or
     * null when the format has none that such a reader can make (the default).
     */
    default Check newCheck() {
        return null;
    }

    /** A checksum fed with a tensor's decoded bytes in order. */
    interface Check {
        void update(byte[] bytes, int offset, int length);

        /** Verifies the bytes seen: all of the tensor's, in order. */
        void finish() throws MalformedTensorFileException;
    }
}
