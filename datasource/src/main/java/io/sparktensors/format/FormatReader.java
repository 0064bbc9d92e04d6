package io.sparktensors.format;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.io.FolderFiles;
import io.sparktensors.io.InputFile;
import java.io.IOException;

/**
 * Lists the tensors of one checkpoint file of some format. Listing reads only what locates the tensors
 * (headers, pickles, indexes, protobuf structure), never tensor data, and checks every length and offset
 * against the file before trusting it. Readers are stateless and thread-safe.
 */
public interface FormatReader {

    /** The format's short name, as given to {@code spark.read.format(...)}. */
    String name();

    /**
     * Lists {@code file}.
     *
     * @param folder the files beside it (TF data shards, ONNX external data); never a way out of the folder
     * @throws MalformedTensorFileException for anything that breaks the format, is hostile, or exceeds a limit
     */
    TensorListing list(InputFile file, FolderFiles folder, ReadLimits limits) throws IOException;

    /**
     * How many leading bytes {@link #recognizes} needs to tell a file of this format from another file of the
     * same name (a {@code .bin} may be a PyTorch checkpoint or ONNX external data); 0 when names suffice.
     */
    default int recognitionBytes() {
        return 0;
    }

    /** Whether a file starting with {@code start} (at most {@link #recognitionBytes()} long) may be of this format. */
    default boolean recognizes(byte[] start) {
        return true;
    }
}
