package io.sparktensors.spark.write;

/**
 * The write options of {@code df.write.format("safetensors")}. Keys are case-insensitive; {@link TensorWriteConf}
 * parses them once, on the driver.
 */
public final class TensorWriteOptions {
    /** Most tensor bytes per shard, e.g. 5GB (powers of 1000, as huggingface_hub) or 2GiB. Default 5GB. */
    public static final String MAX_SHARD_SIZE = "maxShardSize";
    /** Shard file prefix: {@code PREFIX.safetensors} or {@code PREFIX-00001-of-0000N.safetensors}. Default model. */
    public static final String FILE_PREFIX = "filePrefix";
    /** {@code metadata.KEY}: an entry of every shard's __metadata__, added to the default {"format": "pt"}. */
    public static final String METADATA_PREFIX = "metadata.";
    /** Convert floating tensors (F64, F32, F16, BF16) to F32, F16 or BF16; others are written as they are. */
    public static final String DTYPE = "dtype";

    /**
     * How rows become tensors: {@code checkpoint} (the default: rows are tensors name, dtype, shape, data),
     * {@code dataset} (one tensor per column, shape [rows, ...], in part files a DataLoader reads) or {@code kv}
     * (one tensor per row and column, named KEY/COLUMN, in shards with an index).
     */
    public static final String LAYOUT = "layout";
    /** layout=dataset: most rows per file. Default: as many as fit {@link #MAX_FILE_SIZE}. */
    public static final String ROWS_PER_FILE = "rowsPerFile";
    /** layout=dataset: a file is closed once its tensors hold this many bytes. Default 256MB. */
    public static final String MAX_FILE_SIZE = "maxFileSize";
    /** layout=dataset: {@code error} (default) refuses arrays of differing lengths; {@code pad} pads 1-d ones. */
    public static final String RAGGED = "ragged";
    /** {@code dtype.COL}: store floating column COL as F32, F16 or BF16, or binary column COL as any dtype. */
    public static final String DTYPE_PREFIX = "dtype.";
    /** {@code shape.COL}: the per-row shape of binary column COL, e.g. {@code 3,32,32}. */
    public static final String SHAPE_PREFIX = "shape.";
    /** layout=kv: the column whose value names each row's tensors. */
    public static final String KEY_COLUMN = "keyColumn";

    private TensorWriteOptions() {}
}
