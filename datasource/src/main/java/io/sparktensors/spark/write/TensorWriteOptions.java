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

  private TensorWriteOptions() {}
}
