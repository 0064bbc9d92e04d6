package io.sparktensors.checkpoint;

import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.ReaderSettings;
import java.util.Objects;

/**
 * What planning a scan needs to know, engine-free (Spark's read options are parsed into this once, on the
 * driver).
 *
 * @param format the format every file is read as, or null to tell each file's format by its name
 * @param maxChunkBytes most bytes of a tensor in one row; larger tensors are split along dimension 0
 * @param limits what a file may make a reader allocate
 * @param readers how format readers read (GGUF dequantizing, the pickle mode)
 * @param maxPartitionBytes the split size to aim at
 * @param blockPartitionBytes the split size to aim at where storage reports which hosts hold a file's blocks
 *     (HDFS): Spark's, about a block, so that each task can read its bytes from its own host
 * @param openCostBytes what opening a file is counted as, in bytes, when packing splits
 * @param ignoreCorruptFiles skip files that cannot be read, with a warning
 * @param ignoreMissingFiles skip files that disappeared, with a warning
 * @param planningThreads headers read at once
 */
public record ScanOptions(
        CheckpointFormat format,
        long maxChunkBytes,
        ReadLimits limits,
        ReaderSettings readers,
        long maxPartitionBytes,
        long blockPartitionBytes,
        long openCostBytes,
        boolean ignoreCorruptFiles,
        boolean ignoreMissingFiles,
        int planningThreads) {

    public ScanOptions {
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(readers, "readers");
        if (maxChunkBytes <= 0
                || maxPartitionBytes <= 0
                || blockPartitionBytes <= 0
                || openCostBytes < 0
                || planningThreads <= 0) {
            throw new IllegalArgumentException("scan sizes and thread counts must be positive");
        }
    }

    /** Spark's defaults (128 MiB chunks and splits, 4 MiB open cost), for the format given. */
    public static ScanOptions defaults(CheckpointFormat format) {
        return new ScanOptions(
                format,
                128L << 20,
                ReadLimits.DEFAULTS,
                ReaderSettings.DEFAULTS,
                128L << 20,
                128L << 20,
                4L << 20,
                false,
                false,
                16);
    }
}
