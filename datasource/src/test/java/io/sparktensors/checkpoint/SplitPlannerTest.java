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
        List<FileSlice> files = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            files.add(file("f" + i, 2, 100));
        }
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
    void listingWithoutDataTakesFewTasks() {
        List<FileSlice> files = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            files.add(file("shard" + i, 1000, 5_000_000));
        }
        List<ReadSplit> splits = SplitPlanner.plan(files, false, 128 << 20, 4 << 20, 2);
        assertEquals(1, splits.size());
        assertEquals(100_000, splits.get(0).chunkCount());
    }
}
