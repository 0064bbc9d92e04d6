package io.sparktensors.checkpoint;

import java.util.ArrayList;
import java.util.List;

/**
 * Packs file slices into read splits of about {@code maxSplitBytes}, as Spark packs Parquet files: each
 * file costs {@code openCostBytes} more, a large file is split between its chunks, and the target shrinks
 * so that small scans still spread over every core. A scan that reads no tensor data costs only a small
 * fixed amount per chunk, so listing a checkpoint takes few tasks.
 */
public final class SplitPlanner {
    /** What a chunk costs when its data is not read: listing 100,000 tensors fits one default split. */
    static final long METADATA_ONLY_CHUNK_COST = 1024;

    private SplitPlanner() {}

    /**
     * @param files each file's chunks in offset order, in the order files should be read
     * @param readData whether the scan reads the data column
     * @param maxPartitionBytes Spark's {@code spark.sql.files.maxPartitionBytes}
     * @param openCostBytes Spark's {@code spark.sql.files.openCostInBytes}
     * @param parallelism the cores to spread over (Spark's default parallelism)
     */
    public static List<ReadSplit> plan(
            List<FileSlice> files, boolean readData, long maxPartitionBytes, long openCostBytes, int parallelism) {
        long target = maxPartitionBytes;
        if (readData) {
            long total = 0;
            for (FileSlice f : files) {
                total += openCostBytes + f.dataBytes();
            }
            target = Math.min(maxPartitionBytes, Math.max(openCostBytes, total / Math.max(1, parallelism)));
        }
        List<ReadSplit> splits = new ArrayList<>();
        List<FileSlice> current = new ArrayList<>();
        long size = 0;
        for (FileSlice f : files) {
            List<TensorChunk> run = new ArrayList<>();
            long fileCost = readData ? openCostBytes : 0;
            for (TensorChunk c : f.chunks()) {
                long cost = readData ? c.length() : METADATA_ONLY_CHUNK_COST;
                if (size + fileCost + cost > target && (size > 0 || !run.isEmpty())) {
                    if (!run.isEmpty()) {
                        current.add(new FileSlice(f.file(), run));
                        run = new ArrayList<>();
                    }
                    splits.add(new ReadSplit(current));
                    current = new ArrayList<>();
                    size = 0;
                    fileCost = readData ? openCostBytes : 0;
                }
                run.add(c);
                size += cost + fileCost;
                fileCost = 0;
            }
            if (!run.isEmpty()) {
                current.add(new FileSlice(f.file(), run));
            }
        }
        if (!current.isEmpty()) {
            splits.add(new ReadSplit(current));
        }
        return splits;
    }
}
