package io.sparktensors.format.dcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.DType;
import io.sparktensors.format.pytorch.DTensorSpec;
import io.sparktensors.format.pytorch.DTensorSpec.Kind;
import io.sparktensors.format.pytorch.DTensorSpec.Placement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Where torch places a rank's shard, checked against the examples torch documents for its own functions
 * ({@code _compute_local_shape_and_global_offset}, {@code _StridedShard}); the goldens check the same rules on
 * files torch wrote.
 */
class DTensorLayoutTest {
    private static final Placement S0 = new Placement(Kind.SHARD, 0, 1);
    private static final Placement S1 = new Placement(Kind.SHARD, 1, 1);
    private static final Placement R = new Placement(Kind.REPLICATE, 0, 1);

    private static Placement strided(int dim, long sf) {
        return new Placement(Kind.STRIDED_SHARD, dim, sf);
    }

    private static List<DTensorLayout.Block> blocks(
            long[] shape, long[] mesh, long[] coordinate, long[] local, Placement... placements)
            throws MalformedTensorFileException {
        return DTensorLayout.blocks(
                "f", "t", new DTensorSpec(shape, DType.F32, mesh, coordinate, -1, List.of(placements)), local);
    }

    /** The full tensor's indices along {@code dim} that a rank's blocks hold, in local order. */
    private static List<Long> indices(List<DTensorLayout.Block> blocks, int dim) {
        List<Long> out = new ArrayList<>();
        long seenLocal = -1;
        for (DTensorLayout.Block b : blocks) {
            if (b.localOffsets()[dim] <= seenLocal) {
                continue; // the same run along dim, another block along another dimension
            }
            seenLocal = b.localOffsets()[dim];
            for (long i = 0; i < b.sizes()[dim]; i++) {
                out.add(b.globalOffsets()[dim] + i);
            }
        }
        return out;
    }

    @Test
    void shardingDimensionOneTwiceGivesTorchsDocumentedOffsets() throws MalformedTensorFileException {
        // compute_local_shape_and_global_offset's docstring: [2, 5] on (DP=2, TP=2) with (Shard(1), Shard(1)).
        long[][] coordinates = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
        long[][] localShapes = {{2, 2}, {2, 1}, {2, 1}, {2, 1}};
        long[] offsets = {0, 2, 3, 4};
        for (int r = 0; r < 4; r++) {
            List<DTensorLayout.Block> b =
                    blocks(new long[] {2, 5}, new long[] {2, 2}, coordinates[r], localShapes[r], S1, S1);
            assertEquals(1, b.size());
            assertEquals(
                    List.of(0L, offsets[r]),
                    List.of(b.get(0).globalOffsets()[0], b.get(0).globalOffsets()[1]));
        }
    }

    @Test
    void stridedShardIsRightToLeftShardingAsTorchDocumentsIt() throws MalformedTensorFileException {
        // _StridedShard's docstring: [8, 8] on [[0, 1], [2, 3]] with [_StridedShard(0, sf=2), Shard(0)]:
        // rank 0 rows 0-1, rank 1 rows 4-5, rank 2 rows 2-3, rank 3 rows 6-7.
        long[][] coordinates = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
        long[] firstRow = {0, 4, 2, 6};
        for (int r = 0; r < 4; r++) {
            List<DTensorLayout.Block> b =
                    blocks(new long[] {8, 8}, new long[] {2, 2}, coordinates[r], new long[] {2, 8}, strided(0, 2), S0);
            assertEquals(List.of(firstRow[r], firstRow[r] + 1), indices(b, 0), "rank " + r);
        }
    }

    @Test
    void shardThenStridedShardKeepsSeparateRows() throws MalformedTensorFileException {
        // The comment in _compute_local_shape_and_global_offset: [0..7], S(0), SS(0, sf=2) on (2, 2) gives
        // {0, 2}, {1, 3}, {4, 6}, {5, 7}.
        long[][] coordinates = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
        List<List<Long>> expected = List.of(List.of(0L, 2L), List.of(1L, 3L), List.of(4L, 6L), List.of(5L, 7L));
        for (int r = 0; r < 4; r++) {
            List<DTensorLayout.Block> b =
                    blocks(new long[] {8}, new long[] {2, 2}, coordinates[r], new long[] {2}, S0, strided(0, 2));
            assertEquals(expected.get(r), indices(b, 0), "rank " + r);
            assertEquals(2, b.size(), "two separate runs");
            assertEquals(
                    List.of(0L, 1L),
                    List.of(b.get(0).localOffsets()[0], b.get(1).localOffsets()[0]));
        }
    }

    @Test
    void unevenShardsFollowTorchChunk() throws MalformedTensorFileException {
        // torch.chunk(5 rows, 4): 2, 2, 1 and an empty fourth.
        long[] sizes = {2, 2, 1, 0};
        long[] starts = {0, 2, 4, 5};
        for (int r = 0; r < 4; r++) {
            List<DTensorLayout.Block> b =
                    blocks(new long[] {5, 4}, new long[] {4}, new long[] {r}, new long[] {sizes[r], 4}, S0);
            assertEquals(sizes[r], b.get(0).sizes()[0]);
            if (sizes[r] > 0) {
                assertEquals(starts[r], b.get(0).globalOffsets()[0]);
            }
        }
        // Replicate on one mesh dimension: both coordinates along it hold the same block.
        assertEquals(
                Arrays.toString(blocks(new long[] {3}, new long[] {2, 2}, new long[] {1, 0}, new long[] {1}, S0, R)
                        .get(0)
                        .globalOffsets()),
                Arrays.toString(blocks(new long[] {3}, new long[] {2, 2}, new long[] {1, 1}, new long[] {1}, S0, R)
                        .get(0)
                        .globalOffsets()));
    }

    @Test
    void aLocalShardOfAnotherShapeOrAHugeSplitIsRefused() {
        MalformedTensorFileException shape = assertThrows(
                MalformedTensorFileException.class,
                () -> blocks(new long[] {7, 4}, new long[] {2}, new long[] {1}, new long[] {4, 4}, S0));
        assertTrue(shape.getMessage().contains("its local shard is [4, 4] where its spec"), shape.getMessage());
        assertTrue(shape.getMessage().contains("gives [3, 4]"), shape.getMessage());
        // A split factor that would cut a dimension into millions of runs is refused before it is walked.
        MalformedTensorFileException runs = assertThrows(
                MalformedTensorFileException.class,
                () -> blocks(
                        new long[] {1L << 40},
                        new long[] {2},
                        new long[] {1},
                        new long[] {1L << 39},
                        strided(0, Long.MAX_VALUE)));
        assertTrue(runs.getMessage().contains("more than " + DTensorLayout.MAX_RUNS), runs.getMessage());
    }
}
