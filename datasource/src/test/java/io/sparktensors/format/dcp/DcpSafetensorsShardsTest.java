package io.sparktensors.format.dcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorListing;
import io.sparktensors.format.safetensors.SafetensorsReader;
import io.sparktensors.io.LocalInputFile;
import io.sparktensors.testing.Fixtures;
import io.sparktensors.testing.Hashes;
import io.sparktensors.testing.StoredTensors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DCP's Hugging Face storage as torch 2.13 saved it (golden/dcp/make_dcp_hf_storage.py): the piece files of
 * two ranks become the full tensors torch's own reader loads; pieces that do not cover their tensor exactly
 * once are refused naming the file, the tensor and the fault.
 */
class DcpSafetensorsShardsTest {
    @TempDir
    Path dir;

    private static List<TensorListing> listings(Path folder) throws IOException {
        List<TensorListing> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(folder)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".safetensors"))
                    .sorted()
                    .toList()) {
                out.add(new SafetensorsReader().list(new LocalInputFile(f), null, ReadLimits.DEFAULTS));
            }
        }
        return out;
    }

    @Test
    void pieceFilesBecomeTheFullTensorsTorchLoads() throws IOException {
        List<TensorListing> files = listings(Fixtures.golden("dcp", "hf-storage"));
        assertEquals(4, files.size());
        assertTrue(files.stream().allMatch(DcpSafetensorsShards::isPieceFile));
        TensorListing merged = DcpSafetensorsShards.consolidate(files);
        Map<String, String> got = new TreeMap<>();
        for (StoredTensor t : merged.tensors()) {
            got.put(t.name(), Hashes.sha256(StoredTensors.bytes(t)));
        }
        assertEquals(Fixtures.dcpHashes("hf-storage"), got);
        assertFalse(merged.metadata().containsKey(DcpSafetensorsShards.SHARDING_INFO));
        StoredTensor rows = merged.tensors().stream()
                .filter(t -> t.name().equals("model.embed_tokens.weight"))
                .findFirst()
                .orElseThrow();
        assertEquals(List.of(7L, 4L), List.of(rows.dim(0), rows.dim(1)), "the shape is the pieces' box: 4 + 3 rows");
        assertNotNull(rows.data().decoder().plainRuns(), "row pieces are copied as they are");
    }

    @Test
    void aMissingPieceFileIsRefused() throws IOException {
        // Rank 1's pieces lie at the start of its tensors: without them the rest leaves a gap.
        Path copy = copyOfGolden();
        Files.delete(copy.resolve("shard-00001-model-00001-of-00002.safetensors"));
        MalformedTensorFileException gap = assertThrows(
                MalformedTensorFileException.class, () -> DcpSafetensorsShards.consolidate(listings(copy)));
        assertTrue(gap.getMessage().contains("stored nowhere"), gap.getMessage());
        assertTrue(gap.getMessage().contains("model."), "names the tensor: " + gap.getMessage());
        // A rank's files all gone, or an output file of every rank: the names say so.
        Path noRank = copyOfGolden();
        Files.delete(noRank.resolve("shard-00001-model-00001-of-00002.safetensors"));
        Files.delete(noRank.resolve("shard-00001-model-00002-of-00002.safetensors"));
        MalformedTensorFileException rank = assertThrows(
                MalformedTensorFileException.class, () -> DcpSafetensorsShards.consolidate(listings(noRank)));
        assertTrue(rank.getMessage().contains("no file of rank 1"), rank.getMessage());
        Path noFile = copyOfGolden();
        Files.delete(noFile.resolve("shard-00001-model-00002-of-00002.safetensors"));
        Files.delete(noFile.resolve("shard-00002-model-00002-of-00002.safetensors"));
        MalformedTensorFileException index = assertThrows(
                MalformedTensorFileException.class, () -> DcpSafetensorsShards.consolidate(listings(noFile)));
        assertTrue(index.getMessage().contains("model-00002-of-00002"), index.getMessage());
    }

    @Test
    void overlappingOrUnplacedPiecesAreRefused() throws IOException {
        // The second rank's rows of embed_tokens moved up one row (same length): they overlap the first's.
        assertRefused(
                "\\\"model.embed_tokens.weight\\\": {\\\"saved_offsets\\\": [4, 0]}",
                "\\\"model.embed_tokens.weight\\\": {\\\"saved_offsets\\\": [3, 0]}",
                "overlap");
        assertRefused("saved_offsets", "saved_offsetz", "without saved_offsets");
        assertRefused("\\\"saved_offsets\\\": [", "\\\"saved_offsets\\\": {", "not an array");
    }

    private void assertRefused(String find, String replace, String fault) throws IOException {
        Path copy = copyOfGolden();
        Path file = null;
        for (Path f : Files.list(copy).sorted().toList()) {
            String text = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
            if (text.contains(find)) {
                Files.write(
                        f,
                        text.replaceFirst(
                                        java.util.regex.Pattern.quote(find),
                                        java.util.regex.Matcher.quoteReplacement(replace))
                                .getBytes(StandardCharsets.ISO_8859_1));
                file = f;
                break;
            }
        }
        assertNotNull(file, "the golden holds " + find);
        MalformedTensorFileException e = assertThrows(
                MalformedTensorFileException.class, () -> DcpSafetensorsShards.consolidate(listings(copy)));
        assertTrue(e.getMessage().contains(fault), e.getMessage());
        assertTrue(
                e.getMessage().contains(file.getFileName().toString())
                        || e.getMessage().contains("shard-"),
                "names a file: " + e.getMessage());
    }

    private Path copyOfGolden() throws IOException {
        Path copy = Files.createTempDirectory(dir, "hf-storage");
        try (Stream<Path> files = Files.list(Fixtures.golden("dcp", "hf-storage"))) {
            for (Path f : files.toList()) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        return copy;
    }
}
