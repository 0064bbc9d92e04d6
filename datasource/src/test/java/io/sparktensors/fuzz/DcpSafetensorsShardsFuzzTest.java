package io.sparktensors.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sparktensors.format.FormatReader;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.TensorListing;
import io.sparktensors.format.dcp.DcpSafetensorsShards;
import io.sparktensors.format.safetensors.SafetensorsReader;
import io.sparktensors.io.FolderFiles;
import io.sparktensors.io.InputFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fuzzes the consolidation of DCP's Hugging Face storage: the input is one piece file (its header, its
 * {@code DCP_SHARDING_INFO}, its data) consolidated with the three other piece files of the torch-made
 * golden/dcp/hf-storage, then every full tensor is decoded from all four.
 */
class DcpSafetensorsShardsFuzzTest {
    private static final String INPUT = "shard-00001-model-00001-of-00002.safetensors";
    private static final Map<String, byte[]> OTHERS = others();

    private static Map<String, byte[]> others() {
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (String name : List.of(
                "shard-00001-model-00002-of-00002.safetensors",
                "shard-00002-model-00001-of-00002.safetensors",
                "shard-00002-model-00002-of-00002.safetensors")) {
            try (InputStream in =
                    DcpSafetensorsShardsFuzzTest.class.getResourceAsStream("/golden/dcp/hf-storage/" + name)) {
                out.put(name, in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    /** Lists the input and the fixed piece files with the safetensors reader, then consolidates them. */
    private static final FormatReader PIECES = new FormatReader() {
        @Override
        public String name() {
            return "dcp-hf-storage";
        }

        @Override
        public TensorListing list(InputFile file, FolderFiles folder, ReadLimits limits) throws IOException {
            List<TensorListing> listings = new ArrayList<>();
            listings.add(new SafetensorsReader().list(file, folder, limits));
            for (String name : OTHERS.keySet()) {
                listings.add(new SafetensorsReader().list(folder.resolve(file.location(), name), folder, limits));
            }
            return DcpSafetensorsShards.consolidate(listings);
        }
    };

    @FuzzTest(maxDuration = "30s")
    void pieces(byte[] input) {
        FuzzContract.check(PIECES, input, INPUT, OTHERS);
    }
}
