package io.sparktensors.format.pytorch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorListing;
import io.sparktensors.format.safetensors.HeaderReader;
import io.sparktensors.format.safetensors.SafetensorsHeader;
import io.sparktensors.format.safetensors.TensorEntry;
import io.sparktensors.io.LocalFolderFiles;
import io.sparktensors.io.LocalInputFile;
import io.sparktensors.testing.Fixtures;
import io.sparktensors.testing.Hashes;
import io.sparktensors.testing.StoredTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The PyTorch reader against the shared reference and real fixtures, read in place. */
class PyTorchFixturesTest {
    private static final PyTorchReader READER = new PyTorchReader();

    static TensorListing list(Path p) throws IOException {
        return READER.list(new LocalInputFile(p), LocalFolderFiles.beside(p), ReadLimits.DEFAULTS);
    }

    @Test
    void zooHasEveryDtypeViewScalarAndEmpty() throws IOException {
        Path dir = Fixtures.reference("torch-zoo");
        TensorListing listing = list(dir.resolve("zoo.pt"));
        // row_slice, col_slice and strided overlap transposed, the one complete view of their storage, but are
        // other views of it: kept with their own values (convert.py would drop them). Nothing here is tied.
        StoredTensors.assertMatches(listing, Fixtures.expected(dir), Set.of());
        assertEquals(List.of("epoch: int", "note: str"), listing.skipped());
        Map<String, StoredTensor> byName = byName(listing);
        assertFalse(byName.get("transposed").data().isPlain(), "a transposed view needs a decoder");
        assertTrue(byName.get("big_storage_small_view").data().isPlain(), "a contiguous view is a plain range");
        assertFalse(byName.get("row_slice").data().isPlain()
                && byName.get("col_slice").data().isPlain());
        assertEquals(Map.of("format", "pt"), listing.metadata());
    }

    @Test
    void legacyFormat() throws IOException {
        Path dir = Fixtures.reference("torch-legacy");
        TensorListing listing = list(dir.resolve("legacy.pt"));
        StoredTensors.assertMatches(listing, Fixtures.expected(dir), Set.of());
        assertTrue(listing.tensors().stream().allMatch(t -> t.data().isPlain()));
    }

    @Test
    void tiedWeightsAreDroppedLikeConvertPy() throws IOException {
        Path dir = Fixtures.reference("tiny-gpt2-bin");
        TensorListing listing = list(dir.resolve("pytorch_model.bin"));
        StoredTensors.assertMatches(listing, Fixtures.expected(dir), Set.of("transformer.wte.weight"));
        assertEquals("lm_head.weight", listing.metadata().get("transformer.wte.weight"));
        assertEquals(List.of(), listing.skipped(), "the state_dict's _metadata attribute is no tensor nor value");
    }

    @Test
    void shardsAreSubsetsOfTheModel() throws IOException {
        Path dir = Fixtures.reference("tiny-gpt2-bin-sharded");
        Map<String, Fixtures.Expected> expected = Fixtures.expected(dir);
        int total = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path shard :
                    files.filter(f -> f.toString().endsWith(".bin")).sorted().toList()) {
                TensorListing listing = list(shard);
                Map<String, Fixtures.Expected> subset = new TreeMap<>();
                listing.tensors().forEach(t -> subset.put(t.name(), expected.get(t.name())));
                assertFalse(subset.containsValue(null), "names of " + shard + " are in expected.json");
                StoredTensors.assertMatches(listing, subset, Set.of());
                total += listing.tensors().size() + listing.metadata().size() - 1; // kept + dropped names
            }
        }
        assertEquals(expected.size(), total, "every tensor is in exactly one shard");
    }

    // The "twins" hold the same tensors but not the same values: each was saved at another point of training
    // (mnist's num_batches_tracked is 3752 in the .pt, 7504 in the .safetensors). So the twins are compared on
    // names, dtypes and shapes, and the bytes are pinned to SHA-256 values computed independently (Python's
    // zipfile and pickle modules reading the records, no torch).

    @Test
    void mnistAgreesWithItsSafetensorsTwin() throws IOException {
        TensorListing listing =
                assertTwins(Fixtures.real("burn-mnist/mnist.pt"), Fixtures.real("burn-mnist/mnist.safetensors"));
        assertEquals(
                "625dc787d77da8ad74e77598b50e41adcc7ee2e0ce4980f65cd8f00dd696ad5f", sha256(listing, "conv1.weight"));
        assertEquals(
                "61b54f9bdb62ce87c1e0441292aabd521ebeadb3f345816555331f7ffc84b29a",
                sha256(listing, "norm1.num_batches_tracked"));
    }

    @Test
    void diffusersLoraAgreesWithItsSafetensorsTwin() throws IOException {
        TensorListing listing = assertTwins(
                Fixtures.real("diffusers-lora-sd15/pytorch_lora_weights.bin"),
                Fixtures.real("diffusers-lora-sd15/pytorch_lora_weights.safetensors"));
        assertEquals(
                "1c88766bf5c153b3ec28a4f3f39cc030df639d6fbb3b132b043b4c19f8935b89",
                sha256(
                        listing,
                        "down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.to_k_lora.down.weight"));
    }

    /** Same names, dtypes and shapes as the safetensors file saved from the same model. */
    private static TensorListing assertTwins(Path torch, Path safetensors) throws IOException {
        TensorListing listing = list(torch);
        SafetensorsHeader header = HeaderReader.read(
                        new LocalInputFile(safetensors), ReadLimits.DEFAULT_MAX_HEADER_BYTES)
                .header();
        Map<String, StoredTensor> byName = byName(listing);
        assertEquals(header.tensors().size(), byName.size());
        for (TensorEntry e : header.tensors()) {
            StoredTensor t = byName.get(e.name());
            assertNotNull(t, e.name());
            assertEquals(e.dtype(), t.dtype(), e.name());
            assertArrayEquals(e.shape(), t.shape(), e.name());
            assertEquals(e.byteLength(), StoredTensors.bytes(t).length, e.name());
        }
        return listing;
    }

    private static String sha256(TensorListing listing, String name) {
        return Hashes.sha256(StoredTensors.bytes(byName(listing).get(name)));
    }

    @Test
    void wholeModulesAndNumpyStateReadSymbolicallyAndAreRefusedInStrictMode() throws IOException {
        Map<String, String> strict = Map.of(
                "hls4ml-torch-legacy/two_layer_model.pt",
                        "global 'torch.nn.modules.container.Sequential' is not allowed",
                "peft-lora-distilbert-imdb/rng_state.pth",
                        "global 'numpy._core.multiarray._reconstruct' is not allowed");
        for (Map.Entry<String, String> e : strict.entrySet()) {
            Path p = Fixtures.real(e.getKey());
            MalformedTensorFileException refused = assertThrows(
                    MalformedTensorFileException.class,
                    () -> new PyTorchReader(false)
                            .list(new LocalInputFile(p), LocalFolderFiles.beside(p), ReadLimits.DEFAULTS));
            assertTrue(refused.getMessage().contains(e.getValue()), refused.getMessage());
        }
        TensorListing model = list(Fixtures.real("hls4ml-torch-legacy/two_layer_model.pt"));
        assertEquals(
                List.of("0.weight", "0.bias", "2.weight", "2.bias"),
                model.tensors().stream().map(StoredTensor::name).toList(),
                "a legacy pickled module's state_dict names");
        TensorListing rng = list(Fixtures.real("peft-lora-distilbert-imdb/rng_state.pth"));
        assertTrue(
                rng.skipped().contains("numpy.1: numpy array of dtype 'u4', which has no safetensors dtype"),
                "the numpy RNG state is skipped");
    }

    @Test
    void everyRealTorchFileListsOrIsRefusedByName() throws IOException {
        Map<String, String> refused =
                Map.of("broken.pt", "neither a torch.save zip archive nor the legacy torch.save format");
        int listed = 0;
        try (Stream<Path> files = Files.walk(Fixtures.root().resolve("real"))) {
            for (Path p : files.filter(f -> f.toString().matches(".*\\.(pt|pth|bin)$"))
                    .sorted()
                    .toList()) {
                String why = refused.get(p.getFileName().toString());
                if (why != null) {
                    MalformedTensorFileException e = assertThrows(MalformedTensorFileException.class, () -> list(p));
                    assertTrue(e.getMessage().contains(why), e.getMessage());
                    assertTrue(e.getMessage().contains(p.toString()), "the message names the file");
                    continue;
                }
                TensorListing listing = list(p);
                assertFalse(listing.tensors().isEmpty(), p + " has tensors");
                for (StoredTensor t : listing.tensors()) {
                    assertEquals(t.dtype().byteSize(t.elementCount()), StoredTensors.bytes(t).length, t.name());
                }
                listed++;
            }
        }
        assertEquals(27, listed);
    }

    @Test
    void namesFollowTheObjectTree() throws IOException {
        TensorListing checkpoint = list(Fixtures.real("burn-torch-reader/checkpoint.pt"));
        assertEquals(
                List.of(
                        "model_state_dict.fc1.weight",
                        "model_state_dict.fc1.bias",
                        "model_state_dict.fc2.weight",
                        "model_state_dict.fc2.bias",
                        "optimizer_state_dict.state.0.momentum_buffer"),
                checkpoint.tensors().stream().map(StoredTensor::name).toList());
        assertEquals(List.of("epoch: int", "loss: float"), checkpoint.skipped());

        TensorListing nested = list(Fixtures.real("burn-torch-modules/top_level_key.pt"));
        assertEquals(
                List.of("conv1.weight", "conv1.bias"),
                nested.tensors().stream().map(StoredTensor::name).toList(),
                "the one top-level key holding every tensor is dropped");

        TensorListing bare = list(Fixtures.real("burn-torch-reader/scalar.pt"));
        assertEquals("tensor", bare.tensors().get(0).name(), "a bare tensor is named 'tensor'");
        assertEquals(0, bare.tensors().get(0).rank());

        TensorListing keyed = list(Fixtures.real("candle-torch/test_with_key.pt"));
        assertEquals("test", keyed.tensors().get(0).name(), "a key holding a tensor itself is kept");

        TensorListing param = list(Fixtures.real("burn-torch-reader/parameter.pt"));
        assertEquals("param", param.tensors().get(0).name());
        assertArrayEquals(new long[] {3, 3}, param.tensors().get(0).shape());

        TensorListing torchtune = list(Fixtures.real("torchtune-tiny/tiny_llama2_checkpoint.pt"));
        assertEquals("tok_embeddings.weight", torchtune.tensors().get(0).name(), "any archive folder name");
    }

    private static Map<String, StoredTensor> byName(TensorListing listing) {
        Map<String, StoredTensor> out = new HashMap<>();
        listing.tensors().forEach(t -> out.put(t.name(), t));
        return out;
    }
}
