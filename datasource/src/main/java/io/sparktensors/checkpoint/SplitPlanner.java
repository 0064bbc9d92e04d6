package io.sparktensors.checkpoint;

import java.util.ArrayList;
import java.util.List;

/**
 * Packs file slices into read splits, as Spark packs Parquet files: each file costs {@code openCostBytes}
 * more, a large file is split between its chunks, and the split size shrinks so that small scans still spread
 * over every core. Splits of data come in whole waves: their number is rounded up to a multiple of the
 * cores and the bytes divided evenly, so the last wave of tasks is as full as the others (with 1 GiB splits,
 * 10 GiB on 8 cores would otherwise run 8 tasks and then 2 while 6 cores idle). A scan that reads no tensor
 * data costs only a small fixed amount per chunk, so listing a checkpoint takes few tasks.
 */
public final class SplitPlanner {
    /** What a chunk costs when its data is not read: listing 100,000 tensors fits one default split. */
    static final long METADATA_ONLY_CHUNK_COST = 1024;

    private SplitPlanner() {}

    /**
     * @param files each file's chunks in offset order, in the order files should be read
     * @param readData whether the scan reads the data column
     * @param maxPartitionBytes the split size to aim at (Spark's {@code spark.sql.files.maxPartitionBytes} or
     *     the read option)
     * @param openCostBytes Spark's {@code spark.sql.files.openCostInBytes}
     * @param parallelism the cores to spread over (Spark's default parallelism)
     */
    public static List<ReadSplit> plan(
            List<FileSlice> files, boolean readData, long maxPartitionBytes, long openCostBytes, int parallelism) {
        long openCost = readData ? openCostBytes : 0;
        long total = 0;
        for (FileSlice f : files) {
            total += openCost;
            for (TensorChunk c : f.chunks()) {
                total += cost(c, readData);
            }
        }
        int cores = Math.max(1, parallelism);
        long target = readData ? Math.min(maxPartitionBytes, Math.max(openCost, total / cores)) : maxPartitionBytes;
        long splits = ceilDiv(total, Math.max(1, target));
        if (readData && splits > cores) { // the size is maxPartitionBytes: at most halve it, never below the open cost
            splits = ceilDiv(splits, cores) * cores;
        }
        return evenly(files, readData, openCost, total, Math.max(1, splits));
    }

    /** What a chunk counts for when packing splits. */
    private static long cost(TensorChunk c, boolean readData) {
        return readData ? c.length() : METADATA_ONLY_CHUNK_COST;
    }

    /**
     * Cuts the files' chunks, in order, where the running cost crosses {@code k * total / splits}: at most
     * {@code splits} splits, each within a chunk of {@code total / splits}, with no drift from one to the next.
     */
    private static List<ReadSplit> evenly(
            List<FileSlice> files, boolean readData, long openCost, long total, long splits) {
        List<ReadSplit> out = new ArrayList<>();
        List<FileSlice> current = new ArrayList<>();
        long done = 0;
        long bound = boundary(total, splits, 0);
        for (FileSlice f : files) {
            List<TensorChunk> run = new ArrayList<>();
            long fileCost = openCost;
            for (TensorChunk c : f.chunks()) {
                long cost = fileCost + cost(c, readData);
                if (done + cost > bound && (!current.isEmpty() || !run.isEmpty())) {
                    if (!run.isEmpty()) {
                        current.add(new FileSlice(f.file(), run));
                        run = new ArrayList<>();
                    }
                    out.add(new ReadSplit(current));
                    current = new ArrayList<>();
                    // the split the running cost now falls in: never a split left empty behind a large chunk
                    bound = boundary(total, splits, Math.max(out.size(), (long) ((double) done / total * splits)));
                }
                run.add(c);
                done += cost;
                fileCost = 0;
            }
            if (!run.isEmpty()) {
                current.add(new FileSlice(f.file(), run));
            }
        }
        if (!current.isEmpty()) {
            out.add(new ReadSplit(current));
        }
        return out;
    }

    /** Where split {@code k} (0-based) ends: the last one takes whatever is left. */
    private static long boundary(long total, long splits, long k) {
        if (k >= splits - 1) {
            return Long.MAX_VALUE;
        }
        return (long) ((double) total / splits * (k + 1)); // a byte off at petabytes does not matter
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
