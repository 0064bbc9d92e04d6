package io.sparktensors.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.DType;
import io.sparktensors.format.safetensors.TensorEntry;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChunkPlannerTest {

    @Test
    void smallTensorIsOneChunk() throws Exception {
        TensorEntry t = new TensorEntry("w", DType.F32, new long[] {4, 4}, 64, 128);
        List<TensorChunk> chunks = ChunkPlanner.chunks("f", t, 100, 1024);
        assertEquals(1, chunks.size());
        assertEquals(164, chunks.get(0).offset());
        assertEquals(64, chunks.get(0).length());
        assertEquals(1, chunks.get(0).chunkCount());
    }

    @Test
    void largeTensorSplitsIntoWholeLeadingRowsThatTileTheBytes() throws Exception {
        // 10 rows of 3 x F32 = 12 bytes per row; at most 50 bytes per chunk -> 4 rows (48 bytes) per chunk.
        TensorEntry t = new TensorEntry("w", DType.F32, new long[] {10, 3}, 0, 120);
        List<TensorChunk> chunks = ChunkPlanner.chunks("f", t, 8, 50);
        assertEquals(
                List.of(0L, 4L, 8L),
                chunks.stream().map(TensorChunk::chunkStart).toList());
        assertEquals(
                List.of(48, 48, 24), chunks.stream().map(TensorChunk::length).toList());
        long expectedOffset = 8;
        for (TensorChunk c : chunks) {
            assertEquals(expectedOffset, c.offset());
            assertEquals(3, c.chunkCount());
            expectedOffset += c.length();
        }
        assertEquals(8 + 120, expectedOffset);
    }

    @Test
    void subByteRowsAreGroupedIntoWholeBytes() throws Exception {
        // F4 rows of 3 elements = 12 bits: two rows make 3 whole bytes.
        TensorEntry t = new TensorEntry("q", DType.F4, new long[] {8, 3}, 0, 12);
        List<TensorChunk> chunks = ChunkPlanner.chunks("f", t, 0, 4);
        assertEquals(
                List.of(0L, 2L, 4L, 6L),
                chunks.stream().map(TensorChunk::chunkStart).toList());
        assertTrue(chunks.stream().allMatch(c -> c.length() == 3));
    }

    @Test
    void rowLargerThanTheChunkSizeStillMakesProgress() throws Exception {
        TensorEntry t = new TensorEntry("e", DType.BF16, new long[] {3, 100}, 0, 600);
        List<TensorChunk> chunks = ChunkPlanner.chunks("f", t, 0, 10);
        assertEquals(3, chunks.size());
        assertTrue(chunks.stream().allMatch(c -> c.length() == 200));
    }

    @Test
    void scalarsAndEmptyTensorsAreOneChunk() throws Exception {
        assertEquals(
                1,
                ChunkPlanner.chunks("f", new TensorEntry("s", DType.I64, new long[] {}, 0, 8), 0, 4)
                        .size());
        assertEquals(
                1,
                ChunkPlanner.chunks("f", new TensorEntry("z", DType.F32, new long[] {0, 5}, 0, 0), 0, 4)
                        .size());
    }

    @Test
    void oneRowBeyondWhatSparkHoldsIsAClearError() {
        long big = 3L << 30;
        TensorEntry t = new TensorEntry("huge", DType.U8, new long[] {1, big}, 0, big);
        MalformedTensorFileException e = assertThrows(
                MalformedTensorFileException.class, () -> ChunkPlanner.chunks("f.safetensors", t, 0, 1 << 20));
        assertTrue(e.getMessage().contains("huge") && e.getMessage().contains("f.safetensors"), e.getMessage());
    }
}
