package io.sparktensors.format.tensorflow;

import static io.sparktensors.format.tensorflow.TestBundles.DT_FLOAT;
import static io.sparktensors.format.tensorflow.TestBundles.DT_STRING;
import static io.sparktensors.format.tensorflow.TestBundles.entryProto;
import static io.sparktensors.format.tensorflow.TestBundles.header;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorDecoder;
import io.sparktensors.format.TensorListing;
import io.sparktensors.format.tensorflow.TestBundles.Bundle;
import io.sparktensors.format.tensorflow.TestBundles.Proto;
import io.sparktensors.io.LocalFolderFiles;
import io.sparktensors.io.LocalInputFile;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import io.sparktensors.testing.BytesInputFile;
import io.sparktensors.testing.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Corrupt, truncated and hostile bundles: each is a MalformedTensorFileException, never another failure. */
class TensorFlowHostileTest {
    private static final byte[] W = TensorFlowReaderTest.floats(ByteOrder.LITTLE_ENDIAN, 1, 2, 3, 4);

    @TempDir
    Path dir;

    private static Bundle valid() {
        return new Bundle().tensor("a", DT_FLOAT, new long[] {2, 2}, W).tensor("b", DT_FLOAT, new long[] {4}, W);
    }

    private TensorListing list(String prefix, byte[] index, Bundle bundle) throws IOException {
        return TensorFlowReaderTest.list(bundle.write(dir, prefix, index));
    }

    private MalformedTensorFileException malformed(Bundle bundle, byte[] index, String fault) {
        return malformed(bundle, index, fault, ReadLimits.DEFAULTS);
    }

    private MalformedTensorFileException malformed(Bundle bundle, byte[] index, String fault, ReadLimits limits) {
        Path path = bundle.write(dir, "bad", index);
        MalformedTensorFileException e =
                assertThrows(MalformedTensorFileException.class, () -> TensorFlowReaderTest.list(path, limits));
        assertTrue(e.getMessage().contains(fault), e.getMessage());
        assertTrue(e.file().startsWith(dir.toString()), e.file());
        return e;
    }

    private MalformedTensorFileException malformedEntry(byte[] entry, String fault) {
        Bundle bundle = valid().entry("c", entry);
        MalformedTensorFileException e = malformed(bundle, bundle.index(), fault);
        assertEquals("c", e.tensor().orElseThrow(), e.getMessage());
        return e;
    }

    @Test
    void refusesABadMagicNumber() {
        byte[] index = valid().index();
        index[index.length - 1] ^= 1;
        malformed(valid(), index, "magic number");
    }

    @Test
    void refusesABlockFailingItsChecksum() {
        byte[] index = valid().index();
        index[3] ^= 0x40;
        malformed(valid(), index, "fails its CRC32C checksum");
    }

    @Test
    void refusesSnappyBlocks() {
        Bundle bundle = valid();
        byte[] index = TestBundles.table(List.of(TestBundles.block(entries(bundle), 16)), 1, i -> i);
        malformed(bundle, index, "Snappy-compressed");
    }

    @Test
    void verifiesTheDataChecksumWhenATensorIsReadWhole() throws IOException {
        Bundle bundle = valid();
        Path path = bundle.write(dir, "crc");
        Path shard = dir.resolve("crc.data-00000-of-00001");
        byte[] data = Files.readAllBytes(shard);
        data[13] ^= 1; // the last row of tensor "a"
        Files.write(shard, data);
        StoredTensor a = TensorFlowReaderTest.list(path).tensors().get(0);
        MalformedTensorFileException e = assertThrows(MalformedTensorFileException.class, () -> decode(a, 0, 2));
        assertEquals(shard.toString(), e.file());
        assertEquals("a", e.tensor().orElseThrow());
        assertTrue(e.getMessage().contains("CRC32C"), e.getMessage());
        decode(a, 0, 1); // part of a tensor is copied unverified: its checksum covers the whole tensor
    }

    @Test
    void refusesRestartPointsOutOfRange() {
        Bundle bundle = valid();
        byte[] block = TestBundles.block(entries(bundle), 1);
        ByteBuffer.wrap(block).order(ByteOrder.LITTLE_ENDIAN).putInt(block.length - 8, 5000);
        malformed(bundle, TestBundles.table(List.of(block)), "restart offsets that point to no entry");
        ByteBuffer.wrap(block).order(ByteOrder.LITTLE_ENDIAN).putInt(block.length - 4, 1 << 30);
        malformed(bundle, TestBundles.table(List.of(block)), "restart points, more than it can hold");
    }

    @Test
    void refusesAKeySharingMoreThanThePreviousKey() {
        ByteArrayOutputStream block = new ByteArrayOutputStream();
        rawEntry(block, 0, new byte[0], header(1, false));
        rawEntry(block, 3, "x".getBytes(StandardCharsets.UTF_8), entryProto(DT_FLOAT, new long[] {1}, 0, 0, 4, 0));
        block.writeBytes(TestBundles.uint32(0));
        block.writeBytes(TestBundles.uint32(1));
        malformed(
                valid(),
                TestBundles.table(List.of(block.toByteArray())),
                "sharing 3 key bytes with a previous key of 0");
    }

    @Test
    void refusesOverflowingVarints() {
        ByteArrayOutputStream block = new ByteArrayOutputStream();
        block.writeBytes(new byte[] {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1});
        block.writeBytes(TestBundles.uint32(0));
        block.writeBytes(TestBundles.uint32(1));
        malformed(valid(), TestBundles.table(List.of(block.toByteArray())), "overflows 64 bits");

        block.reset();
        rawEntry(block, 0, new byte[0], header(1, false));
        block.writeBytes(TestBundles.varintBytes(0));
        block.writeBytes(TestBundles.varintBytes(1L << 33));
        block.writeBytes(TestBundles.uint32(0));
        block.writeBytes(TestBundles.uint32(1));
        malformed(valid(), TestBundles.table(List.of(block.toByteArray())), "overflows 32 bits");

        byte[] offsetOverflow = new Proto()
                .varint(1, DT_FLOAT)
                .rawVarint(4 << 3)
                .raw(new byte[] {-1, -1, -1, -1, -1, -1, -1, -1, -1, 2})
                .build();
        malformedEntry(offsetOverflow, "a varint overflows 64 bits");
    }

    @Test
    void refusesEntriesThatPointOutsideTheData() {
        malformedEntry(entryProto(DT_FLOAT, new long[] {1}, 1, 0, 4, 0), "shard_id is 1 but the bundle has 1");
        malformedEntry(entryProto(DT_FLOAT, new long[] {1}, -1, 0, 4, 0), "shard_id is -1");
        malformedEntry(entryProto(DT_FLOAT, new long[] {4}, 0, 24, 16, 0), "lie beyond the end of the data shard");
        malformedEntry(entryProto(DT_FLOAT, new long[] {1}, 0, Long.MAX_VALUE, 4, 0), "lie beyond the end");
        malformedEntry(entryProto(DT_FLOAT, new long[] {3}, 0, 0, 8, 0), "needs 12 bytes but the entry's size is 8");
    }

    @Test
    void refusesShapesThatCannotBe() {
        malformedEntry(entryProto(DT_FLOAT, new long[] {1L << 40, 1L << 40}, 0, 0, 4, 0), "overflows 64 bits");
        malformedEntry(entryProto(DT_FLOAT, new long[] {Long.MAX_VALUE / 2}, 0, 0, 4, 0), "overflows 64 bits");
        malformedEntry(entryProto(DT_FLOAT, new long[] {-1}, 0, 0, 4, 0), "a dimension is -1");
        byte[] unknownRank = new Proto()
                .varint(1, DT_FLOAT)
                .message(2, new Proto().varint(3, 1))
                .build();
        malformedEntry(unknownRank, "unknown rank");
        byte[] truncatedShape = new Proto()
                .varint(1, DT_FLOAT)
                .rawVarint(2 << 3 | 2)
                .rawVarint(50)
                .build();
        malformedEntry(truncatedShape, "declares 50 bytes but only 0 remain");
    }

    @Test
    void aMissingShardIsFileNotFound() throws IOException {
        Path path = valid().write(dir, "gone");
        Files.delete(dir.resolve("gone.data-00000-of-00001"));
        assertThrows(FileNotFoundException.class, () -> TensorFlowReaderTest.list(path));
    }

    @Test
    void everyTruncationOfAnIndexIsMalformed() throws IOException {
        Bundle bundle = valid();
        bundle.entriesPerBlock = 2;
        assertTruncationsMalformed(bundle.write(dir, "t"));
        assertTruncationsMalformed(
                Fixtures.reference("tf-savedmodel").resolve("saved_model/variables/variables.index"));
    }

    private static void assertTruncationsMalformed(Path index) throws IOException {
        byte[] whole = Files.readAllBytes(index);
        for (int n = 0; n < whole.length; n++) {
            BytesInputFile file = new BytesInputFile(index.toString(), Arrays.copyOf(whole, n));
            assertThrows(
                    MalformedTensorFileException.class,
                    () -> new TensorFlowReader().list(file, LocalFolderFiles.beside(index), ReadLimits.DEFAULTS),
                    "the first " + n + " bytes of " + index);
        }
    }

    /** Each byte of the fixture flipped in turn, and each byte of a block changed under a valid checksum. */
    @Test
    void corruptionNeverEscapesAsAnotherException() throws IOException {
        Path fixture = Fixtures.reference("tf-savedmodel").resolve("saved_model/variables/variables.index");
        byte[] original = Files.readAllBytes(fixture);
        for (int i = 0; i < original.length; i++) {
            byte[] changed = original.clone();
            changed[i] ^= 0x55;
            listAndReadOrMalformed(fixture, changed);
        }
        Bundle bundle = valid().stringScalar("s", "text".getBytes(StandardCharsets.UTF_8));
        Path index = bundle.write(dir, "fuzz");
        byte[] block = TestBundles.block(entries(bundle), 2);
        for (int i = 0; i < block.length; i++) {
            for (int flip : new int[] {0x01, 0x80, 0xff}) {
                byte[] changed = block.clone();
                changed[i] ^= (byte) flip;
                listAndReadOrMalformed(index, TestBundles.table(List.of(changed)));
            }
        }
    }

    private static void listAndReadOrMalformed(Path index, byte[] bytes) throws IOException {
        try {
            TensorListing listing = new TensorFlowReader()
                    .list(
                            new BytesInputFile(index.toString(), bytes),
                            LocalFolderFiles.beside(index),
                            ReadLimits.DEFAULTS);
            for (StoredTensor t : listing.tensors()) {
                decode(t, 0, t.rank() == 0 ? 1 : t.dim(0));
            }
        } catch (MalformedTensorFileException expected) {
            // the one exception a corrupt file may raise
        }
    }

    @Test
    void refusesStructuralFaults() {
        Bundle noHeader = new Bundle();
        malformed(
                noHeader,
                TestBundles.table(List.of(TestBundles.block(
                        List.<byte[][]>of(new byte[][] {"a".getBytes(StandardCharsets.UTF_8), new byte[0]}), 16))),
                "no bundle header");
        Bundle bundle = valid();
        List<byte[][]> reversed = new ArrayList<>(entries(bundle));
        java.util.Collections.swap(reversed, 1, 2);
        malformed(bundle, TestBundles.table(List.of(TestBundles.block(reversed, 1))), "strictly increasing order");
        byte[] block = TestBundles.block(entries(bundle), 16);
        malformed(
                bundle,
                TestBundles.table(List.of(block), 0, index -> List.of(index.get(0), index.get(0))),
                "out of file order or overlapping");
        malformed(
                bundle,
                TestBundles.table(List.of(TestBundles.block(
                        List.<byte[][]>of(new byte[][] {
                            new byte[0], new Proto().varint(1, 0).build()
                        }),
                        16))),
                "num_shards is 0");
        malformed(
                bundle,
                TestBundles.table(List.of(TestBundles.block(
                        List.of(new byte[][] {new byte[0], header(1, false)}, new byte[][] {
                            new byte[] {'a', (byte) 0xff}, new byte[0]
                        }),
                        16))),
                "not valid UTF-8");
    }

    @Test
    void refusesNamesThatClash() {
        Bundle bundle = valid().tensor("a/.ATTRIBUTES/VARIABLE_VALUE", DT_FLOAT, new long[] {4}, W);
        malformed(bundle, bundle.index(), "both give this name");
    }

    @Test
    void refusesACorruptObjectGraph() throws IOException {
        Bundle bundle = valid().stringScalar("_CHECKPOINTABLE_OBJECT_GRAPH", new byte[] {0x0a, 0x00});
        Path path = bundle.write(dir, "graph");
        TensorFlowReaderTest.list(path);
        Path shard = dir.resolve("graph.data-00000-of-00001");
        byte[] data = Files.readAllBytes(shard);
        data[data.length - 1] ^= 1;
        Files.write(shard, data);
        MalformedTensorFileException e =
                assertThrows(MalformedTensorFileException.class, () -> TensorFlowReaderTest.list(path));
        assertEquals(shard.toString(), e.file());
        assertTrue(e.getMessage().contains("the object graph fails its CRC32C checksum"), e.getMessage());
        Bundle notScalar = valid().tensor("_CHECKPOINTABLE_OBJECT_GRAPH", DT_STRING, new long[] {1}, new byte[5]);
        malformed(notScalar, notScalar.index(), "not a string scalar");
    }

    @Test
    void enforcesTheReadLimits() {
        Bundle bundle = valid().tensor("c", DT_FLOAT, new long[] {4}, W);
        byte[] index = bundle.index();
        malformed(bundle, index, "more than 2 entries", new ReadLimits(1000, 1, 10));
        malformed(bundle, index, "raise the read option maxHeaderBytes", new ReadLimits(100, 10, 10));
        malformed(bundle, index, "nest deeper than the limit of 1", new ReadLimits(1000, 10, 1));
    }

    @Test
    void needsAnIndexFileName() throws IOException {
        Path path = valid().write(dir, "ckpt");
        Path renamed = Files.move(path, dir.resolve("ckpt.idx"));
        MalformedTensorFileException e =
                assertThrows(MalformedTensorFileException.class, () -> TensorFlowReaderTest.list(renamed));
        assertTrue(e.getMessage().contains("does not end in .index"), e.getMessage());
    }

    private static List<byte[][]> entries(Bundle bundle) {
        List<byte[][]> all = new ArrayList<>();
        all.add(new byte[][] {new byte[0], header(bundle.numShards, bundle.bigEndian)});
        bundle.entries.forEach((k, v) -> all.add(new byte[][] {k, v}));
        return all;
    }

    private static void rawEntry(ByteArrayOutputStream block, int shared, byte[] unshared, byte[] value) {
        block.writeBytes(TestBundles.varintBytes(shared));
        block.writeBytes(TestBundles.varintBytes(unshared.length));
        block.writeBytes(TestBundles.varintBytes(value.length));
        block.writeBytes(unshared);
        block.writeBytes(value);
    }

    private static void decode(StoredTensor t, long rowStart, long rowCount) throws IOException {
        TensorDecoder decoder = t.data().decoder();
        long rows = t.rank() == 0 ? 1 : t.dim(0);
        long rowBytes = rows == 0 ? 0 : t.data().length() / rows;
        try (SeekableInput in = new LocalInputFile(Path.of(t.data().location())).open(ReadPolicy.RANDOM)) {
            decoder.decode(in, rowStart, rowCount, ByteBuffer.allocate(Math.toIntExact(rowCount * rowBytes)));
        }
    }
}
