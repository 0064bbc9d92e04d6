package io.sparktensors.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.format.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SplitPlannerTest {

    private static FileSlice file(String name, int tensors, int bytesEach) {
        List<TensorChunk> chunks = new ArrayList<>();
        for (int i = 0; i < tensors; i++) {
            chunks.add(new TensorChunk(
                    name + "." + i, DType.U8, new long[] {bytesEach}, 0, 1, 0, 100 + (long) i * bytesEach, bytesEach));
        }
        return new FileSlice(new ShardFile(name, 100 + (long) tensors * bytesEach, Map.of()), chunks);
    }

    /** {@code count} files named prefix0, prefix1, ... of {@code tensors} tensors each. */
    private static List<FileSlice> files(String prefix, int count, int tensors, int bytesEach) {
        List<FileSlice> files = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            files.add(file(prefix + i, tensors, bytesEach));
        }
        return files;
    }

    @Test
    void largeShardIsSplitAcrossTasksAndEveryChunkReadOnce() {
        List<ReadSplit> splits = SplitPlanner.plan(List.of(file("a", 100, 1000)), true, 10_000, 0, 1);
        assertTrue(splits.size() >= 10, "splits: " + splits.size());
        assertEquals(100, splits.stream().mapToInt(ReadSplit::chunkCount).sum());
        for (ReadSplit s : splits) {
            assertTrue(s.dataBytes() <= 10_000, "split bytes " + s.dataBytes());
        }
    }

    @Test
    void smallFilesArePackedTogether() {
        List<FileSlice> files = files("f", 50, 2, 100);
        List<ReadSplit> splits = SplitPlanner.plan(files, true, 1 << 20, 4096, 1);
        assertEquals(1, splits.size());
        assertEquals(50, splits.get(0).slices().size());
    }

    @Test
    void smallScansSpreadOverTheCores() {
        List<ReadSplit> splits = SplitPlanner.plan(List.of(file("a", 8, 1 << 20)), true, 128 << 20, 0, 4);
        assertEquals(4, splits.size());
    }

    @Test
    void splitsComeInWholeWavesOfTheCores() {
        // 10 units of the split size on 8 cores: 16 splits of 5/8 each, not 8 full ones and then 2 more
        List<FileSlice> files = files("f", 10, 10, 100);
        List<ReadSplit> splits = SplitPlanner.plan(files, true, 1000, 0, 8);
        assertEquals(16, splits.size());
        assertEquals(100, splits.stream().mapToInt(ReadSplit::chunkCount).sum());
        for (ReadSplit s : splits) {
            assertTrue(s.dataBytes() >= 500 && s.dataBytes() <= 700, "split bytes " + s.dataBytes());
        }
    }

    @Test
    void evenSplitsDoNotDriftIntoAShortLastOne() {
        // four shards of 64 chunks with an open cost each, two cores: six splits of 42-43 chunks, no seventh
        // split of the few chunks cut short from every other one
        List<FileSlice> files = files("shard", 4, 64, 16);
        List<ReadSplit> splits = SplitPlanner.plan(files, true, 1024, 4, 2);
        assertEquals(6, splits.size());
        for (ReadSplit s : splits) {
            assertTrue(s.chunkCount() >= 42 && s.chunkCount() <= 43, "chunks " + s.chunkCount());
        }
        assertEquals(256, splits.stream().mapToInt(ReadSplit::chunkCount).sum());
    }

    @Test
    void manySmallChunksOnManyCoresAreNotCutBelowTheOpenCost() {
        // 6 MB of 6 KB chunks on 200 cores: splits of about the open cost (4 MB) each, as Spark packs files; the
        // split size is the open cost here, smaller than one chunk plus the open cost, which used to make a
        // split of every chunk (1000 tasks)
        List<ReadSplit> splits = SplitPlanner.plan(List.of(file("a", 1000, 6000)), true, 1L << 30, 4 << 20, 200);
        assertTrue(splits.size() <= 3, "splits: " + splits.size());
        assertEquals(1000, splits.stream().mapToInt(ReadSplit::chunkCount).sum());
    }

    @Test
    void aChunkLargerThanASplitTakesASplitOfItsOwnAndNoneIsEmpty() {
        List<TensorChunk> chunks = new ArrayList<>();
        long[] sizes = {10, 10, 500, 10, 10, 10, 10};
        long offset = 100;
        for (int i = 0; i < sizes.length; i++) {
            chunks.add(new TensorChunk("t" + i, DType.U8, new long[] {sizes[i]}, 0, 1, 0, offset, (int) sizes[i]));
            offset += sizes[i];
        }
        FileSlice f = new FileSlice(new ShardFile("a", offset, Map.of()), chunks);
        List<ReadSplit> splits = SplitPlanner.plan(List.of(f), true, 100, 0, 2);
        assertEquals(7, splits.stream().mapToInt(ReadSplit::chunkCount).sum());
        for (ReadSplit s : splits) {
            assertTrue(s.chunkCount() > 0);
        }
        assertTrue(splits.size() <= 6, "at most ceil(560 / 100) rounded up to whole waves: " + splits.size());
    }

    @Test
    void listingWithoutDataTakesFewTasks() {
        List<FileSlice> files = files("shard", 100, 1000, 5_000_000);
        List<ReadSplit> splits = SplitPlanner.plan(files, false, 128 << 20, 4 << 20, 2);
        assertEquals(1, splits.size());
        assertEquals(100_000, splits.get(0).chunkCount());
    }
}
