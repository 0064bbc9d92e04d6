package io.sparktensors.format.dcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparktensors.checkpoint.CheckpointFormat;
import io.sparktensors.checkpoint.ListedFile;
import io.sparktensors.checkpoint.ScanOptions;
import io.sparktensors.checkpoint.ScanPlanner;
import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.ReaderSettings;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorListing;
import io.sparktensors.format.pytorch.PyTorchReader;
import io.sparktensors.io.HadoopFileStore;
import io.sparktensors.io.LocalFolderFiles;
import io.sparktensors.io.LocalInputFile;
import io.sparktensors.testing.Fixtures;
import io.sparktensors.testing.Hashes;
import io.sparktensors.testing.StoredTensors;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Per-rank DTensor pickles torch 2.13 wrote (golden/dtensor/make_dtensor_ranks.py): every rank's
 * {@code torch.save(model.state_dict())} after FSDP2 on 2 and 4 ranks, FSDP2 over tensor parallel on a 2x2 mesh,
 * and {@code _StridedShard} shards that are several runs of the full tensor; and those files changed in each
 * way a hostile file could be.
 */
class DTensorRanksReaderTest {

    static Path golden(String folder) {
        return Fixtures.golden("dtensor", folder);
    }

    /** The folder planned as a scan of {@code format} (null: any format) would plan it. */
    static List<ListedFile> listings(Path folder, CheckpointFormat format) throws IOException {
        return new ScanPlanner(
                        List.of(folder.toString()),
                        ScanOptions.defaults(format),
                        new HadoopFileStore(new Configuration()))
                .listings();
    }

    static Map<String, StoredTensor> tensors(Path folder, CheckpointFormat format) throws IOException {
        List<ListedFile> files = listings(folder, format);
        assertEquals(1, files.size(), "the rank files are read as one set");
        Map<String, StoredTensor> out = new LinkedHashMap<>();
        files.get(0).listing().tensors().forEach(t -> out.put(t.name(), t));
        return out;
    }

    @ParameterizedTest
    @CsvSource({"fsdp-2,", "fsdp-4,", "tp-2x2,", "strided-2x2,", "fsdp-2,PYTORCH", "tp-2x2,PYTORCH"})
    void everyTensorIsTheUnshardedStateDictsTensor(String folder, CheckpointFormat format) throws IOException {
        Map<String, StoredTensor> listed = tensors(golden(folder), format);
        JsonNode expected = Fixtures.dtensorExpected(folder).get("tensors");
        assertEquals(expected.size(), listed.size(), "tensors of " + folder);
        for (JsonNode e : expected) {
            String name = e.get("name").asText();
            StoredTensor t = listed.get(name);
            assertEquals(e.get("dtype").asText(), t.dtype().code(), name);
            long[] shape = new long[e.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = e.get("shape").get(i).asLong();
            }
            assertArrayEquals(shape, t.shape(), name);
            byte[] all = StoredTensors.bytes(t);
            assertEquals(e.get("sha256").asText(), Hashes.sha256(all), "bytes of " + name + " in " + folder);
            // Any run of rows decodes on its own, to the same bytes (a scan splits large tensors by rows).
            long rows = t.rows();
            long rowBytes = rows == 0 ? 0 : all.length / rows;
            for (long start = 0; start < rows; start++) {
                for (long count = 1; start + count <= rows; count++) {
                    assertArrayEquals(
                            Arrays.copyOfRange(all, (int) (start * rowBytes), (int) ((start + count) * rowBytes)),
                            StoredTensors.rows(t, start, count),
                            name + " rows " + start + "+" + count);
                }
            }
        }
        ListedFile file = listings(golden(folder), format).get(0);
        assertEquals("dtensor", file.listing().metadata().get("format"));
        assertTrue(file.file().location().endsWith("_rank_0.pt"), file.file().location());
    }

    @Test
    void shardsComeFromEveryRankAndReplicasOnce() throws IOException {
        Map<String, StoredTensor> fsdp = tensors(golden("fsdp-2"), null);
        ChunkAssemblyDecoder embed = assertInstanceOf(
                ChunkAssemblyDecoder.class, fsdp.get("embed.weight").data().decoder());
        assertEquals(2, embed.pieces().size());
        assertNotEquals(embed.pieces().get(0).location(), embed.pieces().get(1).location(), "one shard per rank");
        assertEquals(4, embed.pieces().get(0).sizes()[0], "7 rows split as torch.chunk does: 4 + 3");
        // A buffer FSDP2 does not shard: every rank saved it; it is rank 0's byte range.
        StoredTensor positions = fsdp.get("positions");
        assertTrue(positions.data().isPlain());
        assertTrue(positions.data().location().endsWith("_rank_0.pt"));
        // 5 rows on 4 ranks: 2 + 2 + 1 + 0, the empty last shard contributes nothing.
        ChunkAssemblyDecoder bias = assertInstanceOf(
                ChunkAssemblyDecoder.class,
                tensors(golden("fsdp-4"), null).get("up.bias").data().decoder());
        assertEquals(3, bias.pieces().size());
        // FSDP2 over TP: the embedding lies on the "dp" sub-mesh, so ranks (dp, tp=0) and (dp, tp=1) hold the
        // same shard, taken once; the TP-split weights come in 4 pieces.
        Map<String, StoredTensor> tp = tensors(golden("tp-2x2"), null);
        assertEquals(
                2,
                ((ChunkAssemblyDecoder) tp.get("embed.weight").data().decoder())
                        .pieces()
                        .size());
        assertEquals(
                4,
                ((ChunkAssemblyDecoder) tp.get("down.weight").data().decoder())
                        .pieces()
                        .size());
        // _StridedShard: each rank's 2 rows are rows {r, r + 2} of its half, two pieces of its file each.
        ChunkAssemblyDecoder rows = (ChunkAssemblyDecoder)
                tensors(golden("strided-2x2"), null).get("rows").data().decoder();
        assertEquals(8, rows.pieces().size());
        assertTrue(rows.pieces().stream().allMatch(p -> p.view() != null && p.sizes()[0] == 1));
    }

    @Test
    void aRankFileReadAloneListsItsLocalShards() throws IOException {
        Path rank1 = golden("fsdp-2").resolve("model_world_size_2_rank_1.pt");
        TensorListing alone = new PyTorchReader()
                .list(new LocalInputFile(rank1), LocalFolderFiles.beside(rank1), ReadLimits.DEFAULTS);
        Map<String, long[]> shapes = new TreeMap<>();
        alone.tensors().forEach(t -> shapes.put(t.name(), t.shape()));
        assertArrayEquals(new long[] {3, 4}, shapes.get("embed.weight"), "rows 4..6 of 7");
        assertArrayEquals(new long[] {2, 3}, shapes.get("positions"));
        String note = alone.metadata().get(PyTorchReader.DTENSOR_NOTE);
        assertTrue(note.contains("coordinate [1] of a mesh of [2]") && note.contains("read the folder"), note);
        // The same through a scan that names the file alone.
        List<ListedFile> files = listings(rank1, null);
        assertEquals(1, files.size());
        assertEquals("pt", files.get(0).listing().metadata().get("format"));
    }

    @Test
    void aVerlActorFolderReadsTheModelsRankFiles(@TempDir Path dir) throws IOException {
        // verl saves model_, optim_ and extra_state_ rank files side by side (here all copies of the model's).
        for (String prefix : List.of("model", "optim", "extra_state")) {
            for (int r = 0; r < 2; r++) {
                Files.copy(
                        golden("fsdp-2").resolve("model_world_size_2_rank_" + r + ".pt"),
                        dir.resolve(prefix + "_world_size_2_rank_" + r + ".pt"));
            }
        }
        List<ListedFile> folder = listings(dir, null);
        assertEquals(1, folder.size());
        assertTrue(folder.get(0).file().location().endsWith("/model_world_size_2_rank_0.pt"));
        // The optimizer's rank files are read when named.
        List<ListedFile> optim = listings(dir.resolve("optim_world_size_2_rank_*.pt"), null);
        assertEquals(1, optim.size());
        assertTrue(optim.get(0).file().location().endsWith("/optim_world_size_2_rank_0.pt"));
        assertEquals(6, optim.get(0).listing().tensors().size());
    }

    @Test
    void aMissingRankFileIsNamed(@TempDir Path dir) throws IOException {
        for (int r : new int[] {0, 1, 3}) {
            String name = "model_world_size_4_rank_" + r + ".pt";
            Files.copy(golden("fsdp-4").resolve(name), dir.resolve(name));
        }
        FileNotFoundException e = assertThrows(FileNotFoundException.class, () -> listings(dir, null));
        assertTrue(
                e.getMessage().contains("say 4 ranks saved them, but model_world_size_4_rank_2.pt is missing"),
                e.getMessage());
        // The reader given the names finds it missing too.
        Path rank0 = dir.resolve("model_world_size_4_rank_0.pt");
        MalformedTensorFileException m = assertThrows(
                MalformedTensorFileException.class,
                () -> new DTensorRanksReader(
                                List.of(
                                        "model_world_size_4_rank_0.pt",
                                        "model_world_size_4_rank_1.pt",
                                        "model_world_size_4_rank_2.pt",
                                        "model_world_size_4_rank_3.pt"),
                                true)
                        .list(new LocalInputFile(rank0), LocalFolderFiles.beside(rank0), ReadLimits.DEFAULTS));
        assertTrue(m.getMessage().contains("'model_world_size_4_rank_2.pt' beside it is missing"), m.getMessage());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "overlap|embed.weight|rank_1.pt|ranks 0 and 1 both stand at coordinate [0] of a mesh of [2] that"
                        + " spans all 2 ranks",
                "overlap-replicate|embed.weight|rank_1.pt|rank 1 holds a DTensor of F32[7, 4] (Replicate()) on a mesh"
                        + " of [2] where rank 0 holds one of F32[7, 4] (Shard(dim=0)) on a mesh of [2]",
                "outside|embed.weight|rank_0.pt|its wrapper size [7, 4] differs from its TensorMeta shape [3, 4]",
                "coordinate-outside|embed.weight|rank_1.pt|coordinate [5] lies outside its mesh of [2]",
                "mesh-size|embed.weight|rank_0.pt|lies on a mesh of [4] (4 devices), more than the 2 rank files",
                "shard-dim|up.bias|rank_0.pt|placement Shard(dim=3) splits dimension 3 of a tensor of 1 dimensions",
                "rank-mismatch|embed.weight|rank_1.pt|saved by rank 0 but the file is named rank 1",
            })
    void hostileSpecsAreRefusedNamingFileTensorAndFault(String variant, String tensor, String file, String fault) {
        MalformedTensorFileException e = assertThrows(
                MalformedTensorFileException.class,
                () -> listings(golden("hostile").resolve(variant), null));
        assertEquals(tensor, e.tensor().orElse(null), e.getMessage());
        assertTrue(e.file().endsWith(file), e.getMessage());
        assertTrue(e.getMessage().contains(fault), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"fsdp-2", "tp-2x2"})
    void theStrictPickleModeRefusesDTensorsNamingTheGlobal(String folder) {
        ScanOptions d = ScanOptions.defaults(null);
        ScanOptions strict = new ScanOptions(
                null,
                d.maxChunkBytes(),
                d.limits(),
                new ReaderSettings(false, ReaderSettings.PickleMode.STRICT),
                d.maxPartitionBytes(),
                d.blockPartitionBytes(),
                d.openCostBytes(),
                false,
                false,
                1);
        MalformedTensorFileException e = assertThrows(
                MalformedTensorFileException.class,
                () -> new ScanPlanner(
                                List.of(golden(folder).toString()), strict, new HadoopFileStore(new Configuration()))
                        .listings());
        assertTrue(e.getMessage().contains("_rebuild_from_type_v2"), e.getMessage());
    }
}
