package io.sparktensors.format;

/**
 * Bounds on what a checkpoint file may make a reader allocate before any tensor data is read. Every reader
 * checks a declared size against these (and against the file length) before allocating for it.
 *
 * @param maxHeaderBytes largest structure read into memory: a safetensors header, a pickle, a TF table, the
 *     protobuf structure of an ONNX model, GGUF metadata, an index
 * @param maxTensors most tensors (and archive members) in one file
 * @param maxNesting deepest nesting of containers (pickle stacks, protobuf messages, HDF5 groups)
 */
public record ReadLimits(long maxHeaderBytes, int maxTensors, int maxNesting) {
    public static final long DEFAULT_MAX_HEADER_BYTES = 100_000_000L;
    public static final int DEFAULT_MAX_TENSORS = 1_000_000;
    public static final int DEFAULT_MAX_NESTING = 256;
    public static final ReadLimits DEFAULTS =
            new ReadLimits(DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_TENSORS, DEFAULT_MAX_NESTING);

    public ReadLimits {
        if (maxHeaderBytes <= 0 || maxTensors <= 0 || maxNesting <= 0) {
            throw new IllegalArgumentException("read limits must be positive");
        }
    }
}
