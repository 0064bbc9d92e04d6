package io.sparktensors.spark;

/**
 * The read options of the tensor sources ({@code spark.read.format("safetensors").option(KEY, value)}).
 * Keys are case-insensitive. {@link TensorReadConf} parses them, once, on the driver.
 */
public final class TensorReadOptions {
  /** Tensors larger than this are split along dimension 0 into chunks of at most this many bytes. Default 128m. */
  public static final String MAX_CHUNK_BYTES = "maxChunkBytes";
  /** Largest JSON header accepted, in bytes. Default 100000000 (the reference library's limit). */
  public static final String MAX_HEADER_BYTES = "maxHeaderBytes";
  /** Most rows in one columnar batch. Default 4096. */
  public static final String BATCH_ROWS = "batchRows";
  /** Most tensor bytes in one columnar batch (a batch always holds at least one chunk). Default 64m. */
  public static final String BATCH_BYTES = "batchBytes";
  /** Target tensor bytes per task. Default: spark.sql.files.maxPartitionBytes. */
  public static final String MAX_PARTITION_BYTES = "maxPartitionBytes";
  /** Skip files whose header or data is malformed (with a warning). Default: spark.sql.files.ignoreCorruptFiles. */
  public static final String IGNORE_CORRUPT_FILES = "ignoreCorruptFiles";
  /** Skip files deleted after listing, and index shards that do not exist. Default: spark.sql.files.ignoreMissingFiles. */
  public static final String IGNORE_MISSING_FILES = "ignoreMissingFiles";
  /** Threads the driver uses to read headers. Default 16. */
  public static final String PLANNING_THREADS = "planningThreads";

  private TensorReadOptions() {}
}
