package io.sparktensors.spark.read;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparktensors.format.DType;
import io.sparktensors.spark.read.metrics.TensorScanMetrics;
import io.sparktensors.testing.Fixtures;
import io.sparktensors.testing.Hashes;
import io.sparktensors.testing.Outputs;
import io.sparktensors.testing.SparkSessions;
import io.sparktensors.testing.SparkTestBase;
import io.sparktensors.testing.TestCheckpoints;
import io.sparktensors.testing.TestCheckpoints.Tensor;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsSourceTest extends SparkTestBase {
    @TempDir
    Path dir;

    private Dataset<Row> read(String... paths) {
        return spark.read().format("safetensors").load(paths);
    }

    private static void assertMatchesExpected(Path folder, Dataset<Row> df) throws Exception {
        Map<String, Fixtures.Expected> expected = Fixtures.expected(folder);
        Map<String, byte[]> actual = Outputs.tensors(df);
        assertEquals(new TreeMap<>(expected).keySet(), actual.keySet(), "tensor names of " + folder);
        Map<String, Row> meta = new LinkedHashMap<>();
        for (Row r : df.select("name", "dtype", "shape").where("chunk = 0").collectAsList()) {
            meta.put(r.getString(0), r);
        }
        for (var e : expected.entrySet()) {
            Row r = meta.get(e.getKey());
            assertEquals(e.getValue().dtype(), r.getString(1), e.getKey());
            assertArrayEquals(
                    e.getValue().shape(),
                    r.<Long>getList(2).stream().mapToLong(Long::longValue).toArray(),
                    e.getKey());
            assertEquals(e.getValue().sha256(), Hashes.sha256(actual.get(e.getKey())), e.getKey());
        }
    }

    @Test
    void readsEveryReferenceSafetensorsCheckpoint() throws Exception {
        for (String name : List.of("safetensors-zoo", "tiny-llama-bf16", "tiny-llama-sharded")) {
            Path folder = Fixtures.reference(name);
            assertMatchesExpected(folder, read(folder.toString()));
        }
    }

    /**
     * Every real third-party safetensors file reads as the reference library reads it (golden file made by
     * src/test/resources/golden/make_real_safetensors_golden.py), and each row's bytes are those at its
     * offset in the file.
     */
    @Test
    void readsEveryRealSafetensorsFileAsTheReferenceLibraryDoes() throws Exception {
        Path real = Fixtures.root().resolve("real");
        JsonNode golden;
        try (var in = getClass().getResourceAsStream("/golden/real-safetensors.json")) {
            golden = new ObjectMapper().readTree(in);
        }
        List<String> found;
        try (Stream<Path> s = Files.walk(real)) {
            found = s.filter(p -> p.toString().endsWith(".safetensors"))
                    .map(p -> real.relativize(p).toString())
                    .sorted()
                    .toList();
        }
        assertEquals(
                found, List.copyOf(sorted(golden.fieldNames())), "the golden file covers every real safetensors file");
        for (String rel : found) {
            Path f = real.resolve(rel);
            JsonNode expected = golden.get(rel);
            Dataset<Row> df = read(f.toString());
            Map<String, byte[]> got = Outputs.tensors(df);
            assertEquals(sorted(expected.get("tensors").fieldNames()), got.keySet(), rel);
            for (Row r : df.select("name", "dtype", "shape", "file_metadata", "data_offset", "data")
                    .collectAsList()) {
                JsonNode t = expected.get("tensors").get(r.getString(0));
                String where = rel + " " + r.getString(0);
                assertEquals(t.get("dtype").asText(), r.getString(1), where);
                List<Long> shape = new ArrayList<>();
                t.get("shape").forEach(d -> shape.add(d.asLong()));
                assertEquals(shape, r.getList(2), where);
                assertEquals(t.get("sha256").asText(), Hashes.sha256(got.get(r.getString(0))), where);
                Map<String, String> meta = new TreeMap<>();
                expected.get("metadata")
                        .fields()
                        .forEachRemaining(e -> meta.put(e.getKey(), e.getValue().asText()));
                assertEquals(
                        meta,
                        new TreeMap<>(
                                io.sparktensors.spark.compat.ScalaCollections.asJava(r.<String, String>getMap(3))),
                        where);
                try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "r")) {
                    byte[] data = (byte[]) r.get(5);
                    byte[] direct = new byte[data.length];
                    raf.seek(r.getLong(4));
                    raf.readFully(direct);
                    assertArrayEquals(direct, data, where);
                }
            }
        }
    }

    private static java.util.TreeSet<String> sorted(java.util.Iterator<String> it) {
        java.util.TreeSet<String> out = new java.util.TreeSet<>();
        it.forEachRemaining(out::add);
        return out;
    }

    @Test
    void chunksOfALargeTensorReassembleToItsBytes() throws Exception {
        Tensor big = TestCheckpoints.random("big", DType.F32, new long[] {1000, 257}, 1);
        Tensor small = TestCheckpoints.random("small", DType.BF16, new long[] {3}, 2);
        Path f = TestCheckpoints.write(dir.resolve("m.safetensors"), Map.of("format", "pt"), List.of(small, big));
        Dataset<Row> df = spark.read()
                .format("safetensors")
                .option("maxChunkBytes", "100000")
                .load(f.toString());
        List<Row> rows = df.where("name = 'big'")
                .orderBy("chunk")
                .select("chunk", "chunk_count", "chunk_start", "shape")
                .collectAsList();
        assertEquals(11, rows.size()); // 97 rows of 1028 bytes per chunk
        long start = 0;
        for (Row r : rows) {
            assertEquals(11, r.getInt(1));
            assertEquals(start, r.getLong(2));
            assertEquals(List.of(1000L, 257L), r.getList(3));
            start += 97;
        }
        Map<String, byte[]> all = Outputs.tensors(df);
        assertArrayEquals(big.data(), all.get("big"));
        assertArrayEquals(small.data(), all.get("small"));
    }

    @Test
    void listingReadsNoTensorBytes() throws Exception {
        Path f = TestCheckpoints.write(
                dir.resolve("m.safetensors"),
                null,
                List.of(
                        TestCheckpoints.random("a", DType.F32, new long[] {256, 256}, 1),
                        TestCheckpoints.random("b", DType.F16, new long[] {64}, 2)));
        Dataset<Row> listing = read(f.toString()).select("name", "dtype", "shape", "file", "data_offset");
        assertEquals(2, listing.collectAsList().size());
        Map<String, Long> m = SparkSessions.scanMetrics(listing);
        assertEquals(0L, m.get(TensorScanMetrics.TENSOR_BYTES));
        assertEquals(0L, m.get(TensorScanMetrics.FILES_OPENED));
        assertEquals(1L, m.get(TensorScanMetrics.HEADER_READS));
        assertEquals(2L, m.get(TensorScanMetrics.CHUNKS));

        Dataset<Row> full = read(f.toString()).select("name", "data");
        full.collectAsList();
        Map<String, Long> fm = SparkSessions.scanMetrics(full);
        assertEquals(256L * 256 * 4 + 64 * 2, fm.get(TensorScanMetrics.TENSOR_BYTES));
        assertEquals(full.rdd().getNumPartitions(), fm.get(TensorScanMetrics.FILES_OPENED), "one open per task");
    }

    @Test
    void filtersOnNameDtypeAndFileSkipTensors() throws Exception {
        List<Tensor> tensors = new ArrayList<>();
        for (int layer = 0; layer < 3; layer++) {
            tensors.add(TestCheckpoints.random("model.layers." + layer + ".w", DType.BF16, new long[] {8, 8}, layer));
            tensors.add(TestCheckpoints.random("model.layers." + layer + ".b", DType.F32, new long[] {8}, 10 + layer));
        }
        Path f = TestCheckpoints.write(dir.resolve("m.safetensors"), null, tensors);
        String path = f.toString();
        record Case(String where, long tensors, long bytes) {}
        for (Case c : List.of(
                new Case("name = 'model.layers.1.w'", 1, 128),
                new Case("name IN ('model.layers.0.b', 'model.layers.2.b')", 2, 64),
                new Case("name LIKE 'model.layers.2.%'", 2, 160),
                new Case("startswith(name, 'model.layers.0')", 2, 160),
                new Case("dtype = 'F32'", 3, 96),
                new Case("dtype = 'F32' AND name LIKE 'model.layers.1%'", 1, 32),
                new Case("file = '" + read(path).select("file").first().getString(0) + "'", 6, 480),
                new Case("file = 'nowhere'", 0, 0))) {
            Dataset<Row> df = read(path).where(c.where()).select("name", "data");
            List<Row> rows = df.collectAsList();
            Map<String, Long> m = SparkSessions.scanMetrics(df);
            assertEquals(c.tensors(), rows.size(), c.where());
            assertEquals(c.tensors(), m.get(TensorScanMetrics.TENSORS_PLANNED), c.where());
            assertEquals(c.bytes(), m.get(TensorScanMetrics.TENSOR_BYTES), c.where());
        }
    }

    @Test
    void readsGlobsFoldersAndSeveralPaths() throws Exception {
        for (int i = 0; i < 3; i++) {
            TestCheckpoints.write(
                    dir.resolve("part" + i + ".safetensors"),
                    null,
                    List.of(TestCheckpoints.random("t" + i, DType.U8, new long[] {10}, i)));
        }
        Files.writeString(dir.resolve("README.md"), "not a tensor file");
        assertEquals(3, read(dir.toString()).count());
        assertEquals(2, read(dir + "/part[01].safetensors").count());
        assertEquals(
                2,
                read(
                                dir.resolve("part0.safetensors").toString(),
                                dir.resolve("part2.safetensors").toString())
                        .count());
        assertEquals(
                3,
                read(dir.toString(), dir.resolve("part1.safetensors").toString())
                        .count(),
                "each file once");
        Exception e = assertThrows(
                Exception.class,
                () -> read(dir.resolve("nope.safetensors").toString()).count());
        assertTrue(e.getMessage().contains("Path does not exist"), e.getMessage());
    }

    @Test
    void readsAShardedIndexFolderAndChecksItsWeightMap() throws Exception {
        Tensor a = TestCheckpoints.random("a", DType.F32, new long[] {4}, 1);
        Tensor b = TestCheckpoints.random("b", DType.F32, new long[] {4}, 2);
        Tensor c = TestCheckpoints.random("c", DType.F32, new long[] {4}, 3);
        TestCheckpoints.write(dir.resolve("model-00001-of-00002.safetensors"), Map.of("format", "pt"), List.of(a, b));
        TestCheckpoints.write(dir.resolve("model-00002-of-00002.safetensors"), Map.of("format", "pt"), List.of(c));
        TestCheckpoints.write(dir.resolve("stray.safetensors"), null, List.of(a)); // not in the index: not read
        TestCheckpoints.writeIndex(
                dir,
                Map.of(
                        "a",
                        "model-00001-of-00002.safetensors",
                        "b",
                        "model-00001-of-00002.safetensors",
                        "c",
                        "model-00002-of-00002.safetensors"),
                48);
        Map<String, byte[]> got = Outputs.tensors(read(dir.toString()));
        assertEquals(List.of("a", "b", "c"), List.copyOf(got.keySet()));
        assertArrayEquals(c.data(), got.get("c"));
        Row meta = read(dir.toString()).select("file_metadata").first();
        assertEquals(Map.of("format", "pt"), io.sparktensors.spark.compat.ScalaCollections.asJava(meta.getMap(0)));
        // The index file itself can be named, or matched by a glob together with its shards.
        assertEquals(
                3, read(dir.resolve("model.safetensors.index.json").toString()).count());
        assertEquals(3, read(dir + "/model*").count());

        TestCheckpoints.writeIndex(
                dir,
                Map.of(
                        "a",
                        "model-00001-of-00002.safetensors",
                        "z",
                        "model-00001-of-00002.safetensors",
                        "c",
                        "model-00002-of-00002.safetensors"),
                48);
        Exception absent =
                assertThrows(Exception.class, () -> read(dir.toString()).count());
        assertTrue(
                absent.getMessage().contains("'z'") && absent.getMessage().contains("no such tensor"),
                absent.getMessage());

        TestCheckpoints.writeIndex(
                dir,
                Map.of(
                        "a",
                        "model-00001-of-00002.safetensors",
                        "b",
                        "model-00001-of-00002.safetensors",
                        "c",
                        "model-00003-of-00003.safetensors"),
                48);
        Exception missing =
                assertThrows(Exception.class, () -> read(dir.toString()).count());
        assertTrue(
                missing.getMessage().contains("model-00003-of-00003.safetensors")
                        && missing.getMessage().contains("'c'"),
                missing.getMessage());
        assertEquals(
                2,
                spark.read()
                        .format("safetensors")
                        .option("ignoreMissingFiles", "true")
                        .load(dir.toString())
                        .count());
    }

    @Test
    void realIndexFoldersWithAbsentShardsFailNamingShardAndTensor() {
        Path llama = Fixtures.real("sharded-partial-llama32-3b");
        Exception e = assertThrows(Exception.class, () -> read(llama.toString()).count());
        assertTrue(e.getMessage().contains("does not exist beside the index"), e.getMessage());
        long present = spark.read()
                .format("safetensors")
                .option("ignoreMissingFiles", "true")
                .load(llama.toString())
                .where("dtype = 'BF16'")
                .count();
        assertEquals(6, present);

        Exception granite = assertThrows(
                Exception.class,
                () -> read(Fixtures.real("sharded-index-granite-3.1-1b").toString())
                        .count());
        assertTrue(granite.getMessage().contains("model-0000"), granite.getMessage());
        Exception lfs = assertThrows(
                Exception.class,
                () -> read(Fixtures.real("sharded-index-granite-3.1-1b")
                                .resolve("model-00002-of-00002.safetensors.LFS-POINTER")
                                .toString())
                        .count());
        assertTrue(lfs.getMessage().contains("Git LFS pointer"), lfs.getMessage());
    }

    @Test
    void corruptFilesFailNamingTheFileOrAreSkippedOnRequest() throws Exception {
        TestCheckpoints.write(
                dir.resolve("good.safetensors"),
                null,
                List.of(TestCheckpoints.random("g", DType.U8, new long[] {16}, 1)));
        Path bad = TestCheckpoints.write(
                dir.resolve("bad.safetensors"),
                null,
                List.of(TestCheckpoints.random("b", DType.U8, new long[] {16}, 1)));
        byte[] bytes = Files.readAllBytes(bad);
        Files.write(bad, java.util.Arrays.copyOf(bytes, bytes.length - 3)); // truncated
        Exception e = assertThrows(Exception.class, () -> read(dir.toString()).count());
        assertTrue(e.getMessage().contains("bad.safetensors") && e.getMessage().contains("truncated"), e.getMessage());
        List<Row> rows = spark.read()
                .format("safetensors")
                .option("ignoreCorruptFiles", "true")
                .load(dir.toString())
                .select("name")
                .collectAsList();
        assertEquals(List.of("g"), rows.stream().map(r -> r.getString(0)).toList());
        spark.conf().set("spark.sql.files.ignoreCorruptFiles", "true");
        try {
            assertEquals(1, read(dir.toString()).count(), "the session setting applies too");
        } finally {
            spark.conf().unset("spark.sql.files.ignoreCorruptFiles");
        }
    }

    @Test
    void manyPartitionsAndSmallBatchesReturnEveryRowOnce() throws Exception {
        List<Tensor> tensors = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            tensors.add(TestCheckpoints.random(String.format("t%02d", i), DType.I32, new long[] {100, 10}, i));
        }
        Path f = TestCheckpoints.write(dir.resolve("m.safetensors"), null, tensors);
        Dataset<Row> df = spark.read()
                .format("safetensors")
                .option("maxPartitionBytes", "20000")
                .option("batchRows", "3")
                .option("maxChunkBytes", "1500")
                .load(f.toString());
        assertTrue(df.rdd().getNumPartitions() >= 8, "partitions: " + df.rdd().getNumPartitions());
        Map<String, byte[]> got = Outputs.tensors(df);
        assertEquals(40, got.size());
        for (Tensor t : tensors) {
            assertArrayEquals(t.data(), got.get(t.name()), t.name());
        }
    }

    @Test
    void tensorScansAimAtOneGigabyteTasksUnlessTheOptionOrTheSessionSetsTheSize() {
        var path = new org.apache.spark.sql.util.CaseInsensitiveStringMap(Map.of("path", "x"));
        TensorReadConf byDefault = TensorReadConf.parse(path, null);
        assertEquals(1L << 30, byDefault.scanOptions().maxPartitionBytes());
        assertEquals(128L << 20, byDefault.maxPartitionBytes(), "training-data scans keep Spark's");
        assertEquals(128L << 20, byDefault.scanOptions().blockPartitionBytes(), "and storage with block hosts");
        var option =
                new org.apache.spark.sql.util.CaseInsensitiveStringMap(Map.of("path", "x", "maxPartitionBytes", "2m"));
        assertEquals(2L << 20, TensorReadConf.parse(option, null).scanOptions().maxPartitionBytes());
        spark.conf().set("spark.sql.files.maxPartitionBytes", "64m");
        try {
            assertEquals(
                    64L << 20, TensorReadConf.parse(path, null).scanOptions().maxPartitionBytes());
            assertEquals(
                    2L << 20, TensorReadConf.parse(option, null).scanOptions().maxPartitionBytes());
        } finally {
            spark.conf().unset("spark.sql.files.maxPartitionBytes");
        }
    }

    @Test
    void worksFromSqlWithATemporaryView() throws Exception {
        Path f = TestCheckpoints.write(
                dir.resolve("m.safetensors"),
                null,
                List.of(
                        TestCheckpoints.random("x", DType.F32, new long[] {2, 3}, 1),
                        TestCheckpoints.random("y", DType.BF16, new long[] {5}, 2)));
        spark.sql("CREATE OR REPLACE TEMPORARY VIEW ckpt USING safetensors OPTIONS (path '" + f + "')");
        List<Row> rows = spark.sql("SELECT dtype, count(*), sum(length(data)) FROM ckpt GROUP BY dtype ORDER BY dtype")
                .collectAsList();
        assertEquals("BF16", rows.get(0).getString(0));
        assertEquals(10L, rows.get(0).getLong(2));
        assertEquals(24L, rows.get(1).getLong(2));
    }

    @Test
    void badOptionsAreRefusedWithTheirName() {
        Exception e = assertThrows(
                Exception.class,
                () -> spark.read()
                        .format("safetensors")
                        .option("maxChunkBytes", "lots")
                        .load(dir.toString())
                        .count());
        assertTrue(e.getMessage().contains("maxChunkBytes"), e.getMessage());
    }
}
