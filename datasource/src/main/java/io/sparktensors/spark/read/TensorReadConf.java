package io.sparktensors.spark.read;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparktensors.checkpoint.ByteSizes;
import io.sparktensors.checkpoint.CheckpointFormat;
import io.sparktensors.checkpoint.ChunkPlanner;
import io.sparktensors.checkpoint.ScanOptions;
import io.sparktensors.errors.TensorErrors;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.ReaderSettings;
import io.sparktensors.format.ReaderSettings.PickleMode;
import java.io.Serializable;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * Read options parsed and validated once, on the driver; executors receive this small value.
 *
 * @param paths the paths to read (files, folders, globs)
 * @param format the format every file is read as, or null to tell each file's format by its name
 * @param pickle how PyTorch pickles treat globals outside the torch allowlist
 * @param maxPartitionBytes bytes per task of a training-data scan, and of a tensor scan of storage that reports
 *     block locations (HDFS): the read option, else Spark's setting
 * @param tensorPartitionBytes tensor bytes per task of a tensor scan elsewhere: the read option, else Spark's
 *     setting where the session sets one, else {@link #TENSOR_PARTITION_BYTES}
 */
public record TensorReadConf(
        List<String> paths,
        CheckpointFormat format,
        long maxChunkBytes,
        long maxHeaderBytes,
        int maxTensors,
        int maxNesting,
        boolean dequantize,
        PickleMode pickle,
        int batchRows,
        long batchBytes,
        long maxPartitionBytes,
        long tensorPartitionBytes,
        long openCostBytes,
        boolean ignoreCorruptFiles,
        boolean ignoreMissingFiles,
        int planningThreads)
        implements Serializable {

    /**
     * Tensor bytes per task when neither the read option nor the session sets a split size. A tensor scan
     * decodes nothing and moves bytes at GB/s per core, so Spark's 128 MiB (sized for Parquet, which decodes
     * at a tenth of that speed) makes tasks of 50-100 ms whose fixed costs (scheduling, opening the file, the
     * first batch read before any overlap) show: scans took 14% less time at 1 GiB on 2 cores. Small scans still
     * spread over every core.
     */
    public static final long TENSOR_PARTITION_BYTES = 1L << 30;

    public TensorReadConf {
        paths = List.copyOf(paths);
    }

    /** What planning needs, engine-free. */
    public ScanOptions scanOptions() {
        return new ScanOptions(
                format,
                maxChunkBytes,
                limits(),
                new ReaderSettings(dequantize, pickle),
                tensorPartitionBytes,
                maxPartitionBytes,
                openCostBytes,
                ignoreCorruptFiles,
                ignoreMissingFiles,
                planningThreads);
    }

    /** The limits every format reader checks before it allocates. */
    public ReadLimits limits() {
        return new ReadLimits(maxHeaderBytes, maxTensors, maxNesting);
    }

    /**
     * Parses the options against the active session's SQL configuration.
     *
     * @param format the source's format, or null for the source that reads any format
     */
    public static TensorReadConf parse(CaseInsensitiveStringMap options, CheckpointFormat format) {
        SQLConf sql = SQLConf.get();
        long split =
                bytes(options, TensorReadOptions.MAX_PARTITION_BYTES, sql.filesMaxPartitionBytes(), 1, Long.MAX_VALUE);
        long tensorSplit = options.containsKey(TensorReadOptions.MAX_PARTITION_BYTES)
                        || sql.contains(SQLConf.FILES_MAX_PARTITION_BYTES().key())
                ? split
                : TENSOR_PARTITION_BYTES;
        String formatOption = options.get(TensorReadOptions.FORMAT);
        if (format == null && formatOption != null) {
            format = CheckpointFormat.byName(formatOption.trim());
        }
        return new TensorReadConf(
                paths(options),
                format,
                bytes(options, TensorReadOptions.MAX_CHUNK_BYTES, 128L << 20, 1, ChunkPlanner.MAX_CHUNK_BYTES),
                bytes(
                        options,
                        TensorReadOptions.MAX_HEADER_BYTES,
                        ReadLimits.DEFAULT_MAX_HEADER_BYTES,
                        8,
                        Integer.MAX_VALUE - 8),
                (int) number(
                        options, TensorReadOptions.MAX_TENSORS, ReadLimits.DEFAULT_MAX_TENSORS, 1, Integer.MAX_VALUE),
                (int) number(options, TensorReadOptions.MAX_NESTING, ReadLimits.DEFAULT_MAX_NESTING, 1, 1000),
                bool(options, TensorReadOptions.DEQUANTIZE, false),
                pickleMode(options),
                (int) number(options, TensorReadOptions.BATCH_ROWS, 4096, 1, 1 << 20),
                bytes(options, TensorReadOptions.BATCH_BYTES, 64L << 20, 1, ChunkPlanner.MAX_CHUNK_BYTES),
                split,
                tensorSplit,
                sql.filesOpenCostInBytes(),
                bool(options, TensorReadOptions.IGNORE_CORRUPT_FILES, sql.ignoreCorruptFiles()),
                bool(options, TensorReadOptions.IGNORE_MISSING_FILES, sql.ignoreMissingFiles()),
                (int) number(options, TensorReadOptions.PLANNING_THREADS, 16, 1, 256));
    }

    private static PickleMode pickleMode(CaseInsensitiveStringMap options) {
        String text = options.get(TensorReadOptions.PICKLE);
        if (text == null) {
            return ReaderSettings.DEFAULTS.pickle();
        }
        PickleMode mode = PickleMode.byName(text);
        if (mode == null) {
            throw TensorErrors.badOption(TensorReadOptions.PICKLE, text, "use strict or symbolic");
        }
        return mode;
    }

    private static List<String> paths(CaseInsensitiveStringMap options) {
        String many = options.get("paths");
        if (many != null) {
            try {
                List<String> list = new ObjectMapper().readValue(many, new TypeReference<List<String>>() {});
                if (!list.isEmpty()) {
                    return list;
                }
            } catch (java.io.IOException e) {
                throw TensorErrors.badOption("paths", many, "give a JSON list of paths", e);
            }
        }
        String one = options.get("path");
        if (one == null || one.isEmpty()) {
            throw TensorErrors.missing(
                    "path", "Use spark.read.format(\"safetensors\").load(path) or OPTIONS (path '...')");
        }
        return List.of(one);
    }

    private static long bytes(CaseInsensitiveStringMap options, String key, long fallback, long min, long max) {
        String text = options.get(key);
        if (text == null) {
            return fallback;
        }
        long value;
        try {
            value = ByteSizes.parse(text);
        } catch (IllegalArgumentException e) {
            throw TensorErrors.badOption(key, text, "give bytes, or a size such as 64m or 1GB (see ByteSizes)", e);
        }
        return inRange(key, text, value, min, max);
    }

    private static long number(CaseInsensitiveStringMap options, String key, long fallback, long min, long max) {
        String text = options.get(key);
        if (text == null) {
            return fallback;
        }
        try {
            return inRange(key, text, Long.parseLong(text.trim()), min, max);
        } catch (NumberFormatException e) {
            throw TensorErrors.badOption(key, text, "not a number", e);
        }
    }

    private static long inRange(String key, String text, long value, long min, long max) {
        if (value < min || value > max) {
            throw TensorErrors.badOption(key, text, "it must lie between " + min + " and " + max);
        }
        return value;
    }

    private static boolean bool(CaseInsensitiveStringMap options, String key, boolean fallback) {
        String text = options.get(key);
        if (text == null) {
            return fallback;
        }
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw TensorErrors.badOption(key, text, "use true or false");
        };
    }
}
