package io.sparktensors.format.pytorch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.format.MalformedTensorFileException;
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
import java.util.Arrays;
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
    // row_slice, col_slice and strided overlap transposed, the one complete view of their storage: dropped
    // as convert.py drops them. The small view of a big storage is alone, so kept.
    StoredTensors.assertMatches(listing, Fixtures.expected(dir), Set.of("row_slice", "col_slice", "strided"));
    assertEquals(List.of("epoch: int", "note: str"), listing.skipped());
    Map<String, StoredTensor> byName = byName(listing);
    assertFalse(byName.get("transposed").data().isPlain(), "a transposed view needs a decoder");
    assertTrue(byName.get("big_storage_small_view").data().isPlain(), "a contiguous view is a plain range");
    assertEquals(Map.of("format", "pt", "col_slice", "transposed", "row_slice", "transposed",
        "strided", "transposed"), listing.metadata());
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
      for (Path shard : files.filter(f -> f.toString().endsWith(".bin")).sorted().toList()) {
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

  private static Map<String, StoredTensor> byName(TensorListing listing) {
    Map<String, StoredTensor> out = new HashMap<>();
    listing.tensors().forEach(t -> out.put(t.name(), t));
    return out;
  }
}
