package io.sparktensors.format.pytorch;

import static io.sparktensors.format.pytorch.TorchBytes.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorListing;
import io.sparktensors.format.pytorch.TorchBytes.Member;
import io.sparktensors.format.pytorch.TorchBytes.Pickle;
import io.sparktensors.io.LocalFolderFiles;
import io.sparktensors.io.LocalInputFile;
import io.sparktensors.testing.BytesInputFile;
import io.sparktensors.testing.StoredTensors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hand-made torch.save files: what must read correctly, and a hostile corpus that must be refused. */
class PyTorchHostileTest {
    private static final PyTorchReader READER = new PyTorchReader();
    private static final long[] SIZE_2X3 = {2, 3};
    private static final long[] STRIDE_2X3 = {3, 1};
    private static final byte[] SIX_FLOATS = floats(1, 2, 3, 4, 5, 6);

    @TempDir
    Path tmp;

    private TensorListing list(byte[] file, ReadLimits limits) throws IOException {
        return READER.list(new BytesInputFile("mem.pt", file), new LocalFolderFiles(tmp), limits);
    }

    /** Lists {@code file} as a local file, so StoredTensors can read the bytes back. */
    private TensorListing listOnDisk(byte[] file) throws IOException {
        Path p = tmp.resolve("t.pt");
        Files.write(p, file);
        return READER.list(new LocalInputFile(p), new LocalFolderFiles(tmp), ReadLimits.DEFAULTS);
    }

    private String refused(byte[] file) {
        return refused(file, ReadLimits.DEFAULTS);
    }

    private String refused(byte[] file, ReadLimits limits) {
        MalformedTensorFileException e = assertTimeoutPreemptively(
                Duration.ofSeconds(20),
                () -> assertThrows(MalformedTensorFileException.class, () -> list(file, limits)));
        assertTrue(e.getMessage().contains("mem.pt"), "names the file: " + e.getMessage());
        return e.getMessage();
    }

    private static void assertContains(String message, String part) {
        assertTrue(message.contains(part), "'" + part + "' in: " + message);
    }

    private static byte[] zipOfPickle(byte[] pickle) {
        return TorchBytes.torchZip(pickle, SIX_FLOATS);
    }

    @Test
    void handMadeZipAndLegacyFilesRead() throws IOException {
        byte[] zip = zipOfPickle(TorchBytes.stateDict(6, 0, SIZE_2X3, STRIDE_2X3, false));
        byte[] legacy = TorchBytes.legacy(TorchBytes.stateDict(6, 0, SIZE_2X3, STRIDE_2X3, true), 6, SIX_FLOATS);
        for (byte[] file : List.of(zip, legacy)) {
            StoredTensor w = listOnDisk(file).tensors().get(0);
            assertEquals("w", w.name());
            assertArrayEquals(SIZE_2X3, w.shape());
            assertTrue(w.data().isPlain());
            assertArrayEquals(SIX_FLOATS, StoredTensors.bytes(w));
        }
    }

    @Test
    void zip64ArchivesRead() throws IOException {
        byte[] zip = TorchBytes.zip(
                List.of(
                        new Member("a/data.pkl", TorchBytes.stateDict(6, 0, SIZE_2X3, STRIDE_2X3, false)),
                        new Member("a/data/0", SIX_FLOATS)),
                true);
        assertArrayEquals(
                SIX_FLOATS, StoredTensors.bytes(listOnDisk(zip).tensors().get(0)));
    }

    @Test
    void stridedViewsAreGatheredAndSplittable() throws IOException {
        float[] storage = new float[48];
        for (int i = 0; i < storage.length; i++) {
            storage[i] = i;
        }
        // base.view(6, 8)[::2, ::3] starting at element 1: rows 1, 17, 33; columns +0, +3.
        byte[] pickle = TorchBytes.stateDict(48, 1, new long[] {3, 2}, new long[] {16, 3}, false);
        StoredTensor t = listOnDisk(TorchBytes.torchZip(pickle, floats(storage)))
                .tensors()
                .get(0);
        assertFalse(t.data().isPlain());
        assertArrayEquals(floats(1, 4, 17, 20, 33, 36), StoredTensors.bytes(t));
        assertArrayEquals(floats(17, 20, 33, 36), StoredTensors.rows(t, 1, 2));
    }

    @Test
    void bigEndianStoragesAreSwapped() throws IOException {
        byte[] pickle = TorchBytes.stateDict(2, 0, new long[] {2}, new long[] {1}, false);
        byte[] bigEndian = ByteBuffer.allocate(8).putFloat(1.5f).putFloat(-2f).array();
        byte[] zip = TorchBytes.zip(
                List.of(
                        new Member("a/data.pkl", pickle),
                        new Member("a/byteorder", "big".getBytes(StandardCharsets.US_ASCII)),
                        new Member("a/data/0", bigEndian)),
                false);
        StoredTensor t = listOnDisk(zip).tensors().get(0);
        assertArrayEquals(floats(1.5f, -2f), StoredTensors.bytes(t));
    }

    private static final PyTorchReader STRICT = new PyTorchReader(false);

    private String refusedStrictly(byte[] file) {
        MalformedTensorFileException e = assertThrows(
                MalformedTensorFileException.class,
                () -> STRICT.list(new BytesInputFile("mem.pt", file), new LocalFolderFiles(tmp), ReadLimits.DEFAULTS));
        assertTrue(e.getMessage().contains("mem.pt"), "names the file: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void forbiddenGlobalsAreNamedInStrictModeAndInertOtherwise() throws IOException {
        for (String[] g : new String[][] {{"os", "system"}, {"builtins", "eval"}, {"subprocess", "Popen"}}) {
            byte[] pickle = new Pickle()
                    .proto()
                    .global(g[0], g[1])
                    .op('(')
                    .str("echo hi")
                    .op('t', 'R', '.')
                    .bytes();
            assertContains(refusedStrictly(zipOfPickle(pickle)), "global '" + g[0] + "." + g[1] + "' is not allowed");
            // Symbolic: a record of the name and its arguments, listed as skipped; nothing runs.
            TensorListing listing = list(zipOfPickle(pickle), ReadLimits.DEFAULTS);
            assertEquals(List.of("<root>: " + g[0] + "." + g[1] + " object"), listing.skipped());
        }
    }

    @Test
    void reduceOnlyOnAllowlistedCallables() {
        byte[] pickle = new Pickle()
                .proto()
                .global("torch", "FloatStorage")
                .op(')', 'R', '.')
                .bytes();
        assertContains(refused(zipOfPickle(pickle)), "REDUCE calls 'torch.FloatStorage'");
        byte[] build = new Pickle()
                .proto()
                .global("torch", "float32")
                .op('}', 'b', '.')
                .bytes();
        assertContains(refused(zipOfPickle(build)), "BUILD sets the state of 'torch.float32'");
    }

    @Test
    void outOfBandBuffersAndUnknownProtocolsAreRefusedByName() {
        assertContains(refused(zipOfPickle(new Pickle().op(0x80, 6).op('N', '.').bytes())), "pickle protocol 6");
        assertContains(
                refused(zipOfPickle(new Pickle().op(0x80, 5).op(0x97, '.').bytes())), "NEXT_BUFFER");
        assertContains(
                refused(zipOfPickle(new Pickle().op(0x80, 5).op('N', 0x98, '.').bytes())), "READONLY_BUFFER");
    }

    @Test
    void deepNestingIsRefused() {
        Pickle marks = new Pickle().proto();
        for (int i = 0; i < 100_000; i++) {
            marks.op('(');
        }
        assertContains(refused(zipOfPickle(marks.op('N', '.').bytes())), "nests deeper than 256");

        Pickle lists = new Pickle().proto();
        for (int i = 0; i < 100_000; i++) {
            lists.op(']');
        }
        for (int i = 1; i < 100_000; i++) {
            lists.op('a');
        }
        assertContains(refused(zipOfPickle(lists.op('.').bytes())), "nests containers deeper than 256");
    }

    @Test
    void hugeDeclaredSizesAreRefusedBeforeAllocating() {
        assertContains(
                refused(zipOfPickle(TorchBytes.stateDict(1L << 60, 0, new long[] {1L << 60}, new long[] {1}, false))),
                "more bytes than the whole file");
        assertContains(
                refused(zipOfPickle(
                        new Pickle().proto().op('X').le(0x7ffffff0, 4).op('.').bytes())),
                "wants 2147483632 bytes");
        assertContains(
                refused(zipOfPickle(
                        new Pickle().proto().op('j').le(0xfffffff0L, 4).op('.').bytes())),
                "memo entry 4294967280, which was never stored");
        assertContains(
                refused(zipOfPickle(
                        new Pickle().proto().op(0x8b).le(0x7fffffff, 4).op('.').bytes())),
                "integer of 2147483647 bytes");
        byte[] bigView = TorchBytes.stateDict(6, 0, new long[] {6, 1L << 40}, new long[] {1, 1}, false);
        assertContains(refused(zipOfPickle(bigView)), "of a storage of 6 elements");
    }

    @Test
    void zipPathTraversalIsRefused() {
        for (String name : new String[] {"../x/data.pkl", "/abs/data.pkl", "a/../../data.pkl", "C:\\x\\data.pkl"}) {
            byte[] zip = TorchBytes.zip(
                    List.of(new Member(name, TorchBytes.stateDict(6, 0, SIZE_2X3, STRIDE_2X3, false))), false);
            assertContains(refused(zip), "zip path traversal");
        }
    }

    @Test
    void duplicateOverlappingAndEncryptedMembersAreRefused() {
        byte[] pickle = TorchBytes.stateDict(6, 0, SIZE_2X3, STRIDE_2X3, false);
        assertContains(
                refused(TorchBytes.zip(
                        List.of(new Member("a/data.pkl", pickle), new Member("a/data.pkl", pickle)), false)),
                "appears twice");
        Member encrypted = new Member("a/data.pkl", pickle);
        encrypted.flags = 1;
        assertContains(refused(TorchBytes.zip(List.of(encrypted), false)), "encrypted");
        Member tooLong = new Member("a/data.pkl", pickle);
        byte[] zip = TorchBytes.zip(List.of(tooLong, new Member("a/data/0", SIX_FLOATS)), false);
        // Let the first member's compressed size claim the second member's bytes too.
        int cd = indexOf(zip, new byte[] {0x50, 0x4b, 0x01, 0x02});
        ByteBuffer.wrap(zip)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putInt(cd + 20, pickle.length + 40)
                .putInt(cd + 24, pickle.length + 40);
        assertContains(refused(zip), "overlap");
    }

    @Test
    void compressionBombsStopAtTheBound() {
        byte[] huge = new byte[4 << 20];
        ReadLimits small = new ReadLimits(1 << 20, 1000, 64);
        Member declared = new Member("a/data.pkl", huge).deflated();
        assertContains(refused(TorchBytes.zip(List.of(declared), false), small), "over the limit of 1048576 bytes");
        Member lying = new Member("a/data.pkl", huge).deflated();
        lying.declaredSize = 1000;
        assertContains(refused(TorchBytes.zip(List.of(lying), false), small), "inflates to more than 1000 bytes");
    }

    @Test
    void deflatedPickleIsReadButDeflatedTensorRecordIsRefused() throws IOException {
        byte[] pickle = TorchBytes.stateDict(6, 0, SIZE_2X3, STRIDE_2X3, false);
        byte[] ok = TorchBytes.zip(
                List.of(new Member("a/data.pkl", pickle).deflated(), new Member("a/data/0", SIX_FLOATS)), false);
        assertEquals("w", list(ok, ReadLimits.DEFAULTS).tensors().get(0).name());
        byte[] bad = TorchBytes.zip(
                List.of(new Member("a/data.pkl", pickle), new Member("a/data/0", SIX_FLOATS).deflated()), false);
        assertContains(refused(bad), "'a/data/0' is compressed (method 8)");
    }

    @Test
    void shortStorageRecordsAreRefused() {
        byte[] pickle = TorchBytes.stateDict(6, 0, SIZE_2X3, STRIDE_2X3, false);
        assertContains(
                refused(TorchBytes.torchZip(pickle, floats(1, 2, 3))), "holds 12 bytes but the pickle declares 6");
        byte[] legacy = TorchBytes.legacy(TorchBytes.stateDict(6, 0, SIZE_2X3, STRIDE_2X3, true), 3, floats(1, 2, 3));
        assertContains(refused(legacy), "holds 3 elements in the file but the pickle declares 6");
    }

    @Test
    void everyTruncationIsRefused() {
        byte[] zip = zipOfPickle(TorchBytes.stateDict(6, 0, SIZE_2X3, STRIDE_2X3, false));
        byte[] legacy = TorchBytes.legacy(TorchBytes.stateDict(6, 0, SIZE_2X3, STRIDE_2X3, true), 6, SIX_FLOATS);
        for (byte[] file : List.of(zip, legacy)) {
            for (int n = 0; n < file.length; n++) {
                refused(Arrays.copyOf(file, n));
            }
        }
    }

    @Test
    void sharedStorageKeepsTheCompleteName() throws IOException {
        // "b" and "a" are the same whole storage (tied): "a" sorts first and is kept. "c", its second row,
        // overlaps them but is another view: kept with its own values.
        byte[] pickle = new Pickle()
                .proto()
                .op('}', '(')
                .str("b")
                .tensor("FloatStorage", "0", 6, 0, SIZE_2X3, STRIDE_2X3, false)
                .str("a")
                .tensor("FloatStorage", "0", 6, 0, SIZE_2X3, STRIDE_2X3, false)
                .str("c")
                .tensor("FloatStorage", "0", 6, 3, new long[] {3}, new long[] {1}, false)
                .op('u', '.')
                .bytes();
        TensorListing listing = list(zipOfPickle(pickle), ReadLimits.DEFAULTS);
        assertEquals(
                List.of("a", "c"),
                listing.tensors().stream().map(StoredTensor::name).sorted().toList());
        assertEquals(Map.of("format", "pt", "b", "a"), listing.metadata());

        // Two halves of one storage, neither complete: both kept.
        byte[] halves = new Pickle()
                .proto()
                .op('}', '(')
                .str("x")
                .tensor("FloatStorage", "0", 6, 0, new long[] {3}, new long[] {1}, false)
                .str("y")
                .tensor("FloatStorage", "0", 6, 3, new long[] {3}, new long[] {1}, false)
                .op('u', '.')
                .bytes();
        assertEquals(2, list(zipOfPickle(halves), ReadLimits.DEFAULTS).tensors().size());
    }

    @Test
    void numpyArraysAreRefusedByGlobalInStrictMode() {
        byte[] numpy = new Pickle()
                .proto()
                .global("numpy.core.multiarray", "_reconstruct")
                .op('.')
                .bytes();
        assertContains(
                refusedStrictly(zipOfPickle(numpy)), "global 'numpy.core.multiarray._reconstruct' is not allowed");
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }

    @Test
    void aViewThatRepeatsElementsIsRefused() {
        // Six stored floats seen through a stride-0 view of 2^40 elements: the decoded size must not follow.
        byte[] pickle = TorchBytes.stateDict(6, 0, new long[] {1L << 40}, new long[] {0}, false);
        assertContains(refused(zipOfPickle(pickle)), "repeats storage elements");
    }

    @Test
    void longKeysOverManyValuesCannotBuildNamesWithoutBound() {
        // {key of 64 KiB: [None] * 100}: each value's path repeats the key; 6.4 MB of names is over a 1 MB limit.
        Pickle p = new Pickle().proto().op('}', '(').str("k".repeat(64 << 10)).op(']', '(');
        for (int i = 0; i < 100; i++) {
            p.op('N');
        }
        byte[] pickle = p.op('e', 'u', '.').bytes();
        assertContains(refused(zipOfPickle(pickle), new ReadLimits(1 << 20, 1000, 64)), "names of its values");
    }
}
