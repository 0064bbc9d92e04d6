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
 * assembly) against the fixed rank files of the torch-made golden/dcp/two-ranks; their embedded
 * {@code torch.save} archives are the PyTorch target's.
 */
class DcpFuzzTest {
  private static final Map<String, byte[]> RANK_FILES = rankFiles();

  private static Map<String, byte[]> rankFiles() {
    Map<String, byte[]> out = new HashMap<>();
    for (String name : new String[] {"__0_0.distcp", "__1_0.distcp"}) {
      try (InputStream in = DcpFuzzTest.class.getResourceAsStream("/golden/dcp/two-ranks/" + name)) {
        out.put(name, in.readAllBytes());
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
