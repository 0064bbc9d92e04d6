package io.sparktensors.spark.read;

/**
 * The read options of the tensor sources ({@code spark.read.format("safetensors").option(KEY, value)}).
 * Keys are case-insensitive. {@link TensorReadConf} parses them, once, on the driver.
 */
public final class TensorReadOptions {
    /** Tensors larger than this are split along dimension 0 into chunks of at most this many bytes. Default 128m. */
    public static final String MAX_CHUNK_BYTES = "maxChunkBytes";
    /**
     * Largest structure a file may make a reader hold in memory, in bytes: a safetensors JSON header, a pickle,
     * a TF table, an ONNX model's structure, GGUF metadata. Default 100000000 (the safetensors library's limit).
     */
    public static final String MAX_HEADER_BYTES = "maxHeaderBytes";
    /** Most tensors (and archive members) in one file. Default 1000000. */
    public static final String MAX_TENSORS = "maxTensors";
    /** Deepest nesting of containers in a file (pickle stacks, protobuf messages, HDF5 groups). Default 256, at most 1000. */
    public static final String MAX_NESTING = "maxNesting";
    /** GGUF: dequantize Q8_0 and Q4_0 tensors to F32 (otherwise they are refused). Default false. */
    public static final String DEQUANTIZE = "dequantize";
    /**
     * PyTorch: how pickle globals outside the allowlist of torch tensor globals are treated. {@code symbolic}
     * (the default): as inert names, never imported or called, so a whole pickled {@code nn.Module} lists its
     * state_dict tensors and numpy arrays are read; {@code strict}: refused, only state_dicts are read.
     */
    public static final String PICKLE = "pickle";
    /** For {@code format("tensors")}: the format of every file, instead of telling it by the file name. */
    public static final String FORMAT = "format";
    /** Most rows in one columnar batch. Default 4096. */
    public static final String BATCH_ROWS = "batchRows";
    /** Most tensor bytes in one columnar batch (a batch always holds at least one chunk). Default 64m. */
    public static final String BATCH_BYTES = "batchBytes";
    /**
     * Target bytes per task. Default for tensor scans: spark.sql.files.maxPartitionBytes where the session
     * sets it, else 1g; for training-data (dataset) scans: spark.sql.files.maxPartitionBytes.
     */
    public static final String MAX_PARTITION_BYTES = "maxPartitionBytes";
    /** Skip files whose header or data is malformed (with a warning). Default: spark.sql.files.ignoreCorruptFiles. */
    public static final String IGNORE_CORRUPT_FILES = "ignoreCorruptFiles";
    /** Skip files deleted after listing, and index shards that do not exist. Default: spark.sql.files.ignoreMissingFiles. */
    public static final String IGNORE_MISSING_FILES = "ignoreMissingFiles";
    /** Threads the driver uses to read headers. Default 16. */
    public static final String PLANNING_THREADS = "planningThreads";

    private TensorReadOptions() {}
}
