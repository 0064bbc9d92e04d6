package io.sparktensors.format.pytorch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorListing;
import io.sparktensors.io.LocalFolderFiles;
import io.sparktensors.io.LocalInputFile;
import io.sparktensors.testing.Fixtures;
import io.sparktensors.testing.StoredTensors;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Files torch 2.x itself wrote (golden/pytorch/make_pickle_goldens.py): pickle protocols 2 to 5, a whole
 * pickled nn.Module, numpy arrays; each must list exactly the tensors of its expected.json.
 */
class PyTorchPickleGoldenTest {
    static Path golden(String folder) {
        try {
            return Path.of(PyTorchPickleGoldenTest.class
                    .getResource("/golden/pytorch/" + folder)
                    .toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static TensorListing list(PyTorchReader reader, Path file) throws IOException {
        return reader.list(new LocalInputFile(file), LocalFolderFiles.beside(file), ReadLimits.DEFAULTS);
    }

    private static TensorListing listGolden(String folder, String file) throws IOException {
        Path dir = golden(folder);
        TensorListing listing = list(new PyTorchReader(), dir.resolve(file));
        StoredTensors.assertMatches(listing, Fixtures.expected(dir), Set.of());
        return listing;
    }

    private static List<String> names(TensorListing listing) {
        return listing.tensors().stream().map(StoredTensor::name).toList();
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 5})
    void everyPickleProtocolReads(int protocol) throws IOException {
        TensorListing listing = listGolden("protocol" + protocol, "state.pt");
        assertEquals(List.of(), listing.skipped());
        // Strict mode reads state_dicts of every protocol too: no global off the allowlist is needed.
        StoredTensors.assertMatches(
                list(new PyTorchReader(false), golden("protocol" + protocol).resolve("state.pt")),
                Fixtures.expected(golden("protocol" + protocol)),
                Set.of());
    }

    @ParameterizedTest
    @ValueSource(strings = {"module", "module4"})
    void aWholeModuleListsItsStateDictInOrder(String folder) throws IOException {
        TensorListing listing = listGolden(folder, "model.pt");
        assertEquals(
                List.of(
                        "0.weight",
                        "0.bias",
                        "1.weight",
                        "1.bias",
                        "1.running_mean",
                        "1.running_var",
                        "1.num_batches_tracked",
                        "2.1.weight"),
                names(listing),
                "state_dict() order; no non-persistent buffer");
        assertFalse(names(listing).contains("1.scratch"));
    }

    @Test
    void aLightningStyleCheckpointListsNumpyArraysAndSkipsRngState() throws IOException {
        TensorListing listing = listGolden("lightning", "lightning.pt");
        assertEquals(List.of("state_dict.weight", "state_dict.bias", "np_array"), names(listing));
        assertFalse(listing.tensors().get(2).data().isPlain(), "protocol 2 holds numpy bytes as a latin-1 string");
        Set<String> skipped = listing.skipped().stream()
                .map(s -> s.substring(0, s.indexOf(':')))
                .collect(Collectors.toSet());
        assertEquals(
                Set.of("epoch", "rng.0", "rng.1", "rng.2", "rng.3", "rng.4"),
                skipped,
                listing.skipped().toString());
        assertTrue(listing.skipped().contains("rng.1: numpy array of dtype 'u4', which has no safetensors dtype"));
    }

    @Test
    void numpyBigEndianAndFortranArraysAreConverted() throws IOException {
        TensorListing listing = listGolden("numpy4", "numpy.pt");
        Map<String, StoredTensor> byName =
                listing.tensors().stream().collect(Collectors.toMap(StoredTensor::name, t -> t));
        assertTrue(byName.get("le").data().isPlain(), "protocol 4 BINBYTES of a stored data.pkl are a plain range");
        assertFalse(byName.get("be").data().isPlain(), "big-endian elements are swapped");
        assertFalse(byName.get("fortran").data().isPlain(), "column-major elements are gathered");
        assertEquals(
                List.of(
                        "u32: numpy array of dtype 'u4', which has no safetensors dtype",
                        "f: numpy.core.multiarray.scalar object"),
                listing.skipped().stream()
                        .map(s -> s.replace("._core.", ".core."))
                        .toList());
    }

    @Test
    void strictModeRefusesModulesAndNumpyArraysByTheirGlobal() {
        Map<String, String> files = Map.of(
                "module/model.pt",
                "'torch.nn.modules.container.Sequential'",
                "lightning/lightning.pt",
                "'numpy._core.multiarray._reconstruct'");
        files.forEach((file, global) -> {
            Path p = golden(file.substring(0, file.indexOf('/'))).resolve(file.substring(file.indexOf('/') + 1));
            MalformedTensorFileException e =
                    assertThrows(MalformedTensorFileException.class, () -> list(new PyTorchReader(false), p));
            assertTrue(
                    e.getMessage().contains("global " + global + " is not allowed in the strict pickle mode"),
                    e.getMessage());
            assertTrue(e.getMessage().contains(p.toString()), "names the file: " + e.getMessage());
        });
    }
}
