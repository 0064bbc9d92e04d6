package io.sparktensors.format.dcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorDecoder;
import io.sparktensors.format.TensorListing;
import io.sparktensors.io.LocalFolderFiles;
import io.sparktensors.io.LocalInputFile;
import io.sparktensors.testing.Fixtures;
import io.sparktensors.testing.Hashes;
import io.sparktensors.testing.StoredTensors;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * DCP checkpoints torch 2.13 wrote (golden/dcp/make_dcp.py): two gloo ranks sharding tensors by rows and by
 * columns, a 2x2 mesh, one process; and its .metadata made wrong in each way a hostile file could be.
 */
class DcpReaderTest {

    /** A tensor of expected.json: dtype, shape and the SHA-256 of the full tensor's bytes. */
    record Expected(String dtype, long[] shape, String sha256) {}

    static Path golden(String folder) {
        return Fixtures.golden("dcp", folder);
    }

    /** The expected tensors of one checkpoint folder, by name. */
    static Map<String, Expected> expected(String checkpoint) {
        Map<String, Expected> out = new LinkedHashMap<>();
        for (JsonNode t : Fixtures.dcpExpected(checkpoint).get("tensors")) {
            long[] shape = new long[t.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = t.get("shape").get(i).asLong();
            }
            out.put(
                    t.get("name").asText(),
                    new Expected(t.get("dtype").asText(), shape, t.get("sha256").asText()));
        }
        return out;
    }

    static TensorListing list(Path folder) throws IOException {
        Path metadata = folder.resolve(DcpReader.METADATA);
        return new DcpReader()
                .list(new LocalInputFile(metadata), LocalFolderFiles.beside(metadata), ReadLimits.DEFAULTS);
    }

    @ParameterizedTest
    @ValueSource(strings = {"two-ranks", "four-ranks", "one-rank", "strided-ranks"})
    void everyTensorIsTheFullTensorTorchSaved(String checkpoint) throws IOException {
        TensorListing listing = list(golden(checkpoint));
        Map<String, Expected> expected = expected(checkpoint);
        assertEquals(
                new java.util.TreeSet<>(expected.keySet()),
                new java.util.TreeSet<>(
                        listing.tensors().stream().map(StoredTensor::name).toList()));
        for (StoredTensor t : listing.tensors()) {
            Expected e = expected.get(t.name());
            assertEquals(e.dtype(), t.dtype().code(), t.name());
            assertArrayEquals(e.shape(), t.shape(), t.name());
            byte[] all = StoredTensors.bytes(t);
            assertEquals(e.sha256(), Hashes.sha256(all), "bytes of " + t.name());
            // Any run of rows decodes on its own, to the same bytes.
            long rowBytes = all.length / t.rows();
            for (long start = 0; start < t.rows(); start++) {
                for (long count = 1; start + count <= t.rows(); count++) {
                    byte[] part = StoredTensors.rows(t, start, count);
                    assertArrayEquals(
                            java.util.Arrays.copyOfRange(
                                    all, (int) (start * rowBytes), (int) ((start + count) * rowBytes)),
                            part,
                            t.name() + " rows " + start + "+" + count);
                }
            }
        }
        List<String> skippedNames = new ArrayList<>();
        listing.skipped().forEach(s -> skippedNames.add(s.substring(0, s.indexOf(':'))));
        List<String> wantedSkipped = new ArrayList<>();
        Fixtures.dcpExpected(checkpoint).get("skipped").forEach(n -> wantedSkipped.add(n.asText()));
        assertEquals(wantedSkipped, skippedNames, "bytes items are skipped");
        assertEquals("dcp", listing.metadata().get("format"));
    }

    @Test
    void shardedTensorsAreAssembledAndWholeOnesAreByteRangesOrViews() throws IOException {
        Map<String, StoredTensor> byName = new LinkedHashMap<>();
        list(golden("two-ranks")).tensors().forEach(t -> byName.put(t.name(), t));
        // Shard(0) and Shard(1) tensors span both rank files; the replicated scalar is one chunk, a byte range.
        StoredTensor columns = byName.get("model.layers.0.attn.q.weight");
        ChunkAssemblyDecoder d =
                assertInstanceOf(ChunkAssemblyDecoder.class, columns.data().decoder());
        assertTrue(d.splittable());
        assertEquals(2, d.pieces().size());
        assertFalse(d.pieces().get(0).location().equals(d.pieces().get(1).location()), "one chunk per rank file");
        assertTrue(byName.get("model.scale").data().isPlain());
        assertNull(d.plainRuns(), "a Shard(1) tensor's rows are strided pieces: it must be assembled");
        // A Shard(0) tensor is its rank files' row runs one after the other: copied as plain runs, whose bytes
        // are those the decoder assembles.
        StoredTensor rows = byName.get("model.layers.0.mlp.weight"); // 3 + 2 rows
        List<TensorDecoder.FileRun> runs = rows.data().decoder().plainRuns();
        assertEquals(2, runs.size());
        ByteArrayOutputStream copied = new ByteArrayOutputStream();
        for (TensorDecoder.FileRun r : runs) {
            byte[] all = Files.readAllBytes(Path.of(r.location()));
            assertEquals(all.length, r.fileLength());
            copied.write(all, (int) r.offset(), (int) r.length());
        }
        assertArrayEquals(StoredTensors.bytes(rows), copied.toByteArray());
        // One process: whole tensors, byte ranges; a transposed or channels_last one is a view of its storage.
        for (StoredTensor t : list(golden("one-rank")).tensors()) {
            boolean strided = t.name().equals("wt") || t.name().equals("conv");
            assertEquals(strided, !t.data().isPlain(), t.name());
            if (strided) {
                assertInstanceOf(
                        io.sparktensors.format.pytorch.StorageViewDecoder.class,
                        t.data().decoder());
            }
        }
        // Strided local shards: assembled from views.
        for (StoredTensor t : list(golden("strided-ranks")).tensors()) {
            ChunkAssemblyDecoder strided =
                    assertInstanceOf(ChunkAssemblyDecoder.class, t.data().decoder());
            assertTrue(strided.pieces().stream().allMatch(p -> p.view() != null), t.name());
        }
    }

    @Test
    void piecesOfAStridedChunkAreReadInBlocksOfRows() throws IOException {
        // Rows of a Shard(1) chunk are gathered a block at a time; a 1-row block must give the same bytes.
        StoredTensor t = list(golden("four-ranks")).tensors().stream()
                .filter(x -> x.name().equals("grid.half"))
                .findFirst()
                .orElseThrow();
        ChunkAssemblyDecoder d = (ChunkAssemblyDecoder) t.data().decoder();
        assertEquals(4, d.pieces().size(), "a 2x2 mesh stores 4 blocks");
        byte[] whole = StoredTensors.bytes(t);
        StringBuilder rows = new StringBuilder();
        for (long r = 0; r < t.rows(); r++) {
            rows.append(Hashes.sha256(StoredTensors.rows(t, r, 1)));
        }
        StringBuilder expectedRows = new StringBuilder();
        long rowBytes = whole.length / t.rows();
        for (long r = 0; r < t.rows(); r++) {
            expectedRows.append(Hashes.sha256(
                    java.util.Arrays.copyOfRange(whole, (int) (r * rowBytes), (int) ((r + 1) * rowBytes))));
        }
        assertEquals(expectedRows.toString(), rows.toString());
    }

    @Test
    void listingReadsEachChunksArchiveInAFewSmallReads() throws IOException {
        Path dir = golden("two-ranks");
        Map<String, io.sparktensors.testing.BytesInputFile> ranks = new LinkedHashMap<>();
        for (String f : List.of("__0_0.distcp", "__1_0.distcp")) {
            ranks.put(f, new io.sparktensors.testing.BytesInputFile(f, Files.readAllBytes(dir.resolve(f))));
        }
        TensorListing listing = new DcpReader()
                .list(
                        new LocalInputFile(dir.resolve(DcpReader.METADATA)),
                        (referrer, name) -> ranks.get(name),
                        ReadLimits.DEFAULTS);
        long chunks = 0;
        for (StoredTensor t : listing.tensors()) {
            chunks += t.data().isPlain()
                    ? 1
                    : ((ChunkAssemblyDecoder) t.data().decoder()).pieces().size();
        }
        int reads = ranks.values().stream()
                .mapToInt(io.sparktensors.testing.BytesInputFile::reads)
                .sum();
        assertTrue(reads <= 2 * chunks, reads + " reads for " + chunks + " chunks");
    }

    @Test
    void aRankFileOnItsOwnIsRefusedWithAdvice() {
        Path rank = golden("two-ranks").resolve("__0_0.distcp");
        MalformedTensorFileException e = assertThrows(
                MalformedTensorFileException.class,
                () -> new DcpReader()
                        .list(new LocalInputFile(rank), LocalFolderFiles.beside(rank), ReadLimits.DEFAULTS));
        assertTrue(e.getMessage().contains("Read the checkpoint folder"), e.getMessage());
    }

    /** two-ranks with its .metadata replaced by a hostile variant. */
    private static Path withMetadata(Path dir, String variant) throws IOException {
        Path src = golden("two-ranks");
        Path dst = dir.resolve("two-ranks");
        Files.createDirectories(dst);
        for (String f : List.of("__0_0.distcp", "__1_0.distcp")) {
            Files.copy(src.resolve(f), dst.resolve(f));
        }
        Files.copy(golden("hostile").resolve(variant + ".metadata"), dst.resolve(DcpReader.METADATA));
        return dst;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "chunk-outside   | model.embed.weight           | lies outside the tensor",
                "overlap         | model.embed.weight           | overlap",
                "gap             | model.embed.weight           | stored nowhere",
                "range-outside   | model.embed.weight           | which has only",
                "path-escape     | model.layers.0.attn.q.weight | not inside the checkpoint's folder",
                "wrong-length    | optim.state.w.exp_avg        | where the metadata says F64[3, 4] (96 bytes)",
                "short-range     | model.layers.0.attn.q.weight | Malformed tensor file",
                "missing-storage | model.embed.weight           | no entry in storage_data",
            })
    void hostileMetadataIsRefusedNamingFileTensorAndFault(
            String variant, String tensor, String fault, @TempDir Path tmp) throws IOException {
        Path dir = withMetadata(tmp, variant);
        MalformedTensorFileException e = assertThrows(MalformedTensorFileException.class, () -> list(dir));
        String m = e.getMessage();
        assertTrue(m.contains(fault), m);
        assertTrue(m.contains("'" + tensor + "'"), "names the tensor: " + m);
        assertTrue(m.contains(dir.toString()), "names the file: " + m);
    }
}
