package io.sparktensors.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.checkpoint.TensorPredicate.Field;
import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.DType;
import io.sparktensors.io.FileEntry;
import io.sparktensors.io.FileStore;
import io.sparktensors.io.FolderFiles;
import io.sparktensors.io.HadoopFileStore;
import io.sparktensors.io.InputFile;
import io.sparktensors.testing.TestCheckpoints;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Read planning on local files, without Spark: path resolution, index checks, predicates and locality. */
class ScanPlannerTest {
    @TempDir
    Path dir;

    private final FileStore local = new HadoopFileStore(new Configuration());

    private Path sharded;

    @BeforeEach
    void writeShardedCheckpoint() throws IOException {
        sharded = dir.resolve("sharded");
        TestCheckpoints.write(
                sharded.resolve("model-00001-of-00002.safetensors"),
                null,
                List.of(
                        TestCheckpoints.random("layers.0.w", DType.F32, new long[] {4, 4}, 1),
                        TestCheckpoints.random("layers.0.b", DType.BF16, new long[] {4}, 2)));
        TestCheckpoints.write(
                sharded.resolve("model-00002-of-00002.safetensors"),
                null,
                List.of(
                        TestCheckpoints.random("layers.1.w", DType.F32, new long[] {4, 4}, 3),
                        TestCheckpoints.random("lm_head", DType.F16, new long[] {8}, 4)));
        TestCheckpoints.writeIndex(
                sharded,
                Map.of(
                        "layers.0.w",
                        "model-00001-of-00002.safetensors",
                        "layers.0.b",
                        "model-00001-of-00002.safetensors",
                        "layers.1.w",
                        "model-00002-of-00002.safetensors",
                        "lm_head",
                        "model-00002-of-00002.safetensors"),
                176);
        Files.writeString(sharded.resolve("config.json"), "{}");
    }

    private static ScanOptions options() {
        return ScanOptions.defaults(null);
    }

    private static Set<String> names(ScanPlan plan) {
        Set<String> names = new TreeSet<>();
        plan.splits().forEach(s -> s.slices().forEach(f -> f.chunks().forEach(c -> names.add(c.name()))));
        return names;
    }

    @Test
    void aFolderWithAnIndexPlansEveryShardItLists() throws IOException {
        ScanPlan plan =
                new ScanPlanner(List.of(sharded.toString()), options(), local).plan(TensorPredicate.ALWAYS, true, 2);
        assertEquals(Set.of("layers.0.w", "layers.0.b", "layers.1.w", "lm_head"), names(plan));
        assertEquals(2, plan.files());
        assertEquals(4, plan.tensors());
        assertTrue(plan.headerReads() >= 2 && plan.headerReads() <= 4, "at most two reads per header");
    }

    @Test
    void aShardTheIndexListsButTheFolderLacksIsNamed() throws IOException {
        Files.delete(sharded.resolve("model-00002-of-00002.safetensors"));
        MalformedTensorFileException e = assertThrows(
                MalformedTensorFileException.class,
                () -> new ScanPlanner(List.of(sharded.toString()), options(), local).listings());
        assertTrue(e.getMessage().contains("model-00002-of-00002.safetensors"), e.getMessage());
        ScanOptions ignoring = new ScanOptions(
                null,
                128L << 20,
                options().limits(),
                options().readers(),
                128L << 20,
                128L << 20,
                4L << 20,
                false,
                true,
                4);
        assertEquals(
                1,
                new ScanPlanner(List.of(sharded.toString()), ignoring, local)
                        .listings()
                        .size());
    }

    @Test
    void theIndexOfAGlobJoinsItsShardsChecksAndEachFileIsPlannedOnce() throws IOException {
        List<ListedFile> files =
                new ScanPlanner(List.of(sharded + "/*", sharded.toString()), options(), local).listings();
        assertEquals(2, files.size());
    }

    @Test
    void thePredicateKeepsOnlyMatchingTensors() throws IOException {
        ScanPlanner planner = new ScanPlanner(List.of(sharded.toString()), options(), local);
        TensorPredicate layer0OrF16 = new TensorPredicate.Any(List.of(
                new TensorPredicate.StartsWith(Field.NAME, "layers.0."),
                new TensorPredicate.Equal(Field.DTYPE, "F16")));
        assertEquals(Set.of("layers.0.w", "layers.0.b", "lm_head"), names(planner.plan(layer0OrF16, true, 2)));
        TensorPredicate notF32InShard2 = new TensorPredicate.All(List.of(
                new TensorPredicate.Not(new TensorPredicate.In(Field.DTYPE, Set.of("F32"))),
                new TensorPredicate.StartsWith(
                        Field.FILE, sharded.toUri().toString().replace("file:///", "file:/") + "model-00002")));
        assertEquals(
                Set.of("lm_head"),
                names(new ScanPlanner(List.of(sharded.toString()), options(), local).plan(notF32InShard2, true, 2)));
    }

    @Test
    void aMissingPathSaysSo() {
        FileNotFoundException e = assertThrows(
                FileNotFoundException.class,
                () -> new ScanPlanner(List.of(dir.resolve("nothing").toString()), options(), local).listings());
        assertTrue(e.getMessage().startsWith("Path does not exist: "), e.getMessage());
    }

    @Test
    void aFolderWithSeveralIndexesAsksWhichOne() throws IOException {
        Files.copy(sharded.resolve("model.safetensors.index.json"), sharded.resolve("other.safetensors.index.json"));
        Files.move(sharded.resolve("model.safetensors.index.json"), sharded.resolve("third.safetensors.index.json"));
        IOException e = assertThrows(
                IOException.class, () -> new ScanPlanner(List.of(sharded.toString()), options(), local).listings());
        assertTrue(
                e.getMessage().contains("several indexes") && e.getMessage().contains("Name the index file"),
                e.getMessage());
    }

    @Test
    void aBinFileThatIsNoPyTorchCheckpointIsToldByItsBytes() throws IOException {
        Path onnxData = dir.resolve("onnx-data");
        Files.createDirectories(onnxData);
        Files.write(onnxData.resolve("weights.bin"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        TestCheckpoints.write(
                onnxData.resolve("model.safetensors"),
                null,
                List.of(TestCheckpoints.random("x", DType.U8, new long[] {3}, 5)));
        List<ListedFile> files = new ScanPlanner(List.of(onnxData.toString()), options(), local).listings();
        assertEquals(1, files.size());
        assertEquals(CheckpointFormat.SAFETENSORS, files.get(0).format());

        Files.delete(onnxData.resolve("model.safetensors"));
        FileNotFoundException e = assertThrows(
                FileNotFoundException.class,
                () -> new ScanPlanner(List.of(onnxData.toString()), options(), local).listings());
        assertTrue(e.getMessage().contains("holds no checkpoint file"), e.getMessage());
    }

    @Test
    void filesWhoseNamesMarkNoFormatAreToldByTheirFirstBytes() throws IOException {
        Path odd = dir.resolve("odd");
        Files.createDirectories(odd);
        Files.copy(sharded.resolve("model-00001-of-00002.safetensors"), odd.resolve("last.ckpt"));
        Files.write(odd.resolve("notes"), "not a checkpoint".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        List<ListedFile> folder = new ScanPlanner(List.of(odd.toString()), options(), local).listings();
        assertEquals(1, folder.size(), "the folder's one checkpoint, told by its bytes");
        assertEquals(CheckpointFormat.SAFETENSORS, folder.get(0).format());
        assertEquals(2, folder.get(0).listing().tensors().size());
        List<ListedFile> named =
                new ScanPlanner(List.of(odd.resolve("last.ckpt").toString()), options(), local).listings();
        assertEquals(CheckpointFormat.SAFETENSORS, named.get(0).format());
        IOException e = assertThrows(
                IOException.class,
                () -> new ScanPlanner(List.of(odd.resolve("notes").toString()), options(), local).listings());
        assertTrue(e.getMessage().contains("Cannot tell the format of 'notes'"), e.getMessage());
    }

    @Test
    void aFolderHoldingDcpMetadataIsReadAsDcpWhateverElseItHolds() throws Exception {
        Path dcp = dir.resolve("dcp");
        Files.createDirectories(dcp);
        Path golden = Path.of(
                ScanPlannerTest.class.getResource("/golden/dcp/two-ranks").toURI());
        for (String f : List.of(".metadata", "__0_0.distcp", "__1_0.distcp")) {
            Files.copy(golden.resolve(f), dcp.resolve(f));
        }
        Files.copy(sharded.resolve("model-00001-of-00002.safetensors"), dcp.resolve("stray.safetensors"));
        List<ListedFile> files = new ScanPlanner(List.of(dcp.toString()), options(), local).listings();
        assertEquals(1, files.size());
        assertEquals(CheckpointFormat.DCP, files.get(0).format());
        assertTrue(
                files.get(0).file().location().endsWith("/.metadata"),
                files.get(0).file().location());
        assertEquals(8, files.get(0).listing().tensors().size());
        // Chunks go to the rank file holding their first bytes; both rank files are read.
        Set<String> locations = new TreeSet<>();
        new ScanPlanner(List.of(dcp.toString()), options(), local)
                .plan(TensorPredicate.ALWAYS, true, 2)
                .splits()
                .forEach(s -> s.slices()
                        .forEach(f -> locations.add(
                                Path.of(f.file().location()).getFileName().toString())));
        assertEquals(Set.of("__0_0.distcp", "__1_0.distcp"), locations);
        // Named as DCP, a folder without .metadata holds nothing to read; a rank file alone is refused with advice.
        ScanOptions dcpOnly = ScanOptions.defaults(CheckpointFormat.DCP);
        assertThrows(
                java.io.FileNotFoundException.class,
                () -> new ScanPlanner(List.of(sharded.toString()), dcpOnly, local).listings());
        IOException e = assertThrows(
                IOException.class,
                () -> new ScanPlanner(List.of(dcp.resolve("__0_0.distcp").toString()), options(), local).listings());
        assertTrue(e.getMessage().contains("Read the checkpoint folder"), e.getMessage());
    }

    @Test
    void sniffingTellsEveryFormatWithAMagic() {
        byte[] safetensors = new byte[16];
        safetensors[0] = 42;
        safetensors[8] = '{';
        assertEquals(CheckpointFormat.SAFETENSORS, CheckpointFormat.sniff(safetensors));
        assertEquals(
                CheckpointFormat.GGUF,
                CheckpointFormat.sniff("GGUF\3\0\0\0....".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)));
        assertEquals(
                CheckpointFormat.KERAS,
                CheckpointFormat.sniff(new byte[] {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n', 0, 0}));
        assertEquals(CheckpointFormat.PYTORCH, CheckpointFormat.sniff(new byte[] {'P', 'K', 3, 4, 0, 0}));
        assertEquals(CheckpointFormat.PYTORCH, CheckpointFormat.sniff(new byte[] {(byte) 0x80, 2, ']', 'q'}));
        assertEquals(
                null, CheckpointFormat.sniff("{\"weight_map\": {}}".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertEquals(null, CheckpointFormat.sniff(new byte[0]));
    }

    @Test
    void splitsPreferTheHostsHoldingMostOfTheirBytes() throws IOException {
        Path big = TestCheckpoints.write(
                dir.resolve("big.safetensors"),
                null,
                List.of(
                        TestCheckpoints.random("a", DType.U8, new long[] {1000}, 6),
                        TestCheckpoints.random("b", DType.U8, new long[] {3000}, 7)));
        long dataStart = Files.size(big) - 4000;
        // Block 1 (header and a) on h1 and h2, block 2 (b) on h2 and h3: b outweighs a, so h2 leads, then h3.
        BlockStore store = new BlockStore(
                local,
                List.of(
                        new FileStore.BlockHosts(0, dataStart + 1000, List.of("h1", "h2")),
                        new FileStore.BlockHosts(dataStart + 1000, 3000, List.of("h3", "h2"))));
        ScanPlan plan =
                new ScanPlanner(List.of(big.toString()), options(), store).plan(TensorPredicate.ALWAYS, true, 1);
        assertEquals(1, plan.splits().size());
        assertEquals(List.of("h2", "h3", "h1"), plan.splits().get(0).hosts());
        assertEquals(1, store.requests.get(), "one block-location request per file");

        ScanPlan listing =
                new ScanPlanner(List.of(big.toString()), options(), store).plan(TensorPredicate.ALWAYS, false, 1);
        assertEquals(List.of(), listing.splits().get(0).hosts());
        assertEquals(1, store.requests.get(), "a scan without tensor data asks for no locations");
    }

    @Test
    void storageThatReportsBlockHostsGetsSplitsOfABlockOtherStorageTheLargerSize() throws IOException {
        List<TestCheckpoints.Tensor> tensors = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            tensors.add(TestCheckpoints.random("t" + i, DType.U8, new long[] {1000}, i));
        }
        Path f = TestCheckpoints.write(dir.resolve("eight.safetensors"), null, tensors);
        ScanOptions o = new ScanOptions(
                null, 128L << 20, options().limits(), options().readers(), 1L << 30, 2000, 0, false, false, 4);
        BlockStore store = new BlockStore(local, List.of(new FileStore.BlockHosts(0, Files.size(f), List.of("h1"))));
        ScanPlan onBlocks = new ScanPlanner(List.of(f.toString()), o, store).plan(TensorPredicate.ALWAYS, true, 1);
        assertEquals(4, onBlocks.splits().size(), "8000 bytes in splits of 2000");
        onBlocks.splits().forEach(s -> assertEquals(List.of("h1"), s.hosts()));
        assertEquals(1, store.requests.get(), "one request per file, for the split size and the hosts");
        ScanPlan onDisk = new ScanPlanner(List.of(f.toString()), o, local).plan(TensorPredicate.ALWAYS, true, 1);
        assertEquals(1, onDisk.splits().size(), "no locality: the larger split size");
    }

    @Test
    void localFilesReportNoLocality() throws IOException {
        ScanPlan plan =
                new ScanPlanner(List.of(sharded.toString()), options(), local).plan(TensorPredicate.ALWAYS, true, 2);
        plan.splits().forEach(s -> assertEquals(List.of(), s.hosts()));
    }

    /** A hand-written fake: the local disk, with the block locations a test gives. */
    private static final class BlockStore implements FileStore {
        private final FileStore files;
        private final List<BlockHosts> blocks;
        final AtomicInteger requests = new AtomicInteger();

        BlockStore(FileStore files, List<BlockHosts> blocks) {
            this.files = files;
            this.blocks = new ArrayList<>(blocks);
        }

        @Override
        public List<FileEntry> glob(String pattern) throws IOException {
            return files.glob(pattern);
        }

        @Override
        public List<FileEntry> list(String folder) throws IOException {
            return files.list(folder);
        }

        @Override
        public FileEntry find(String path) throws IOException {
            return files.find(path);
        }

        @Override
        public String parent(String path) {
            return files.parent(path);
        }

        @Override
        public String child(String folder, String relative) {
            return files.child(folder, relative);
        }

        @Override
        public String qualify(String path) {
            return files.qualify(path);
        }

        @Override
        public InputFile open(FileEntry file) throws IOException {
            return files.open(file);
        }

        @Override
        public FolderFiles folderOf(FileEntry file) throws IOException {
            return files.folderOf(file);
        }

        @Override
        public List<BlockHosts> blockHosts(FileEntry file) {
            requests.incrementAndGet();
            return blocks;
        }
    }
}
