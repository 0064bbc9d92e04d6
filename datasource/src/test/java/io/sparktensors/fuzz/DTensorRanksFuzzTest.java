package io.sparktensors.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sparktensors.format.dcp.DTensorRanksReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * Fuzzes per-rank DTensor pickles (the DTensor spec read from symbolic records, torch's placement rules, the
 * cross-rank checks, chunk assembly) as rank 0's file of a 2-rank save, beside the fixed rank 1 file torch wrote
 * (golden/dtensor/fsdp-2).
 */
class DTensorRanksFuzzTest {
    private static final String RANK_0 = "model_world_size_2_rank_0.pt";
    private static final String RANK_1 = "model_world_size_2_rank_1.pt";
    private static final Map<String, byte[]> RANK_FILES = Map.of(RANK_1, rank1());

    private static byte[] rank1() {
        try (InputStream in = DTensorRanksFuzzTest.class.getResourceAsStream("/golden/dtensor/fsdp-2/" + RANK_1)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void ranks(byte[] input) {
        FuzzContract.check(new DTensorRanksReader(List.of(RANK_0, RANK_1), true), input, RANK_0, RANK_FILES);
    }
}
