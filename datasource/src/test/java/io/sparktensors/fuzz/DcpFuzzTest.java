package io.sparktensors.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sparktensors.format.dcp.DcpReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Fuzzes DCP's {@code .metadata} (the symbolic unpickler on dataclasses, the chunk and storage checks, chunk
 * assembly, strided views) against the fixed rank files of the torch-made golden/dcp/two-ranks and
 * strided-ranks (renamed); their embedded
 * {@code torch.save} archives are the PyTorch target's.
 */
class DcpFuzzTest {
    private static final Map<String, byte[]> RANK_FILES = rankFiles();

    private static Map<String, byte[]> rankFiles() {
        Map<String, byte[]> out = new HashMap<>();
        // two-ranks' rank files, and strided-ranks' (chunks stored as strided views) as __2_0 and __3_0.
        String[][] files = {
            {"two-ranks/__0_0.distcp", "__0_0.distcp"},
            {"two-ranks/__1_0.distcp", "__1_0.distcp"},
            {"strided-ranks/__0_0.distcp", "__2_0.distcp"},
            {"strided-ranks/__1_0.distcp", "__3_0.distcp"}
        };
        for (String[] f : files) {
            try (InputStream in = DcpFuzzTest.class.getResourceAsStream("/golden/dcp/" + f[0])) {
                out.put(f[1], in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    @FuzzTest(maxDuration = "30s")
    void dcp(byte[] input) {
        FuzzContract.check(new DcpReader(), input, DcpReader.METADATA, RANK_FILES);
    }
}
