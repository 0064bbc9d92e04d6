package io.sparktensors.spark.write;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.format.DType;
import io.sparktensors.format.FloatConversion;
import io.sparktensors.format.safetensors.HeaderReader;
import io.sparktensors.format.safetensors.SafetensorsHeader;
import io.sparktensors.format.safetensors.TensorEntry;
import io.sparktensors.io.LocalInputFile;
import io.sparktensors.testing.FaultyFileSystem;
import io.sparktensors.testing.SparkTestBase;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.DataFrameWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetWriterTest extends SparkTestBase {
    @TempDir
    Path dir;

    private static final StructType ALL_TYPES = new StructType()
            .add("d", DataTypes.DoubleType, false)
            .add("f", DataTypes.FloatType, false)
            .add("l", DataTypes.LongType, false)
            .add("i", DataTypes.IntegerType, false)
            .add("s", DataTypes.ShortType, false)
            .add("b", DataTypes.ByteType, false)
            .add("z", DataTypes.BooleanType, false)
            .add("emb", DataTypes.createArrayType(DataTypes.FloatType, false), false)
            .add("ids", DataTypes.createArrayType(DataTypes.LongType, false), false)
            .add("img", DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.ByteType, false), false), false)
            .add("raw", DataTypes.BinaryType, false);

    private Dataset<Row> allTypes(int n) {
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            rows.add(RowFactory.create(
                    r * 1.5 - 3,
                    (float) (r / 3.0),
                    (long) r << 33,
                    r * 7 - 20,
                    (short) (r - 5),
                    (byte) (r * 3),
                    r % 3 == 0,
                    new float[] {r, -r, r / 7f},
                    new long[] {r, r + 1},
                    new byte[][] {{(byte) r, 1}, {2, (byte) -r}, {5, 6}},
                    new byte[] {(byte) r, 0, 0, (byte) (r + 1)}));
        }
        return spark.createDataFrame(toJava(rows), ALL_TYPES);
    }

    private static List<Row> toJava(List<Row> rows) {
        // Spark takes Java arrays for array columns only as Seq or List: convert.
        List<Row> out = new ArrayList<>();
        for (Row r : rows) {
            Object[] v = new Object[r.length()];
            for (int i = 0; i < v.length; i++) {
                v[i] = list(r.get(i));
            }
            out.add(RowFactory.create(v));
        }
        return out;
    }

    private static Object list(Object o) {
        if (o instanceof float[] a) {
            List<Float> l = new ArrayList<>();
            for (float x : a) {
                l.add(x);
            }
            return l;
        } else if (o instanceof long[] a) {
            return Arrays.stream(a).boxed().collect(Collectors.toList());
        } else if (o instanceof byte[][] a) {
            return Arrays.stream(a).map(DatasetWriterTest::bytes).collect(Collectors.toList());
        }
        return o;
    }

    private static List<Byte> bytes(byte[] a) {
        List<Byte> l = new ArrayList<>();
        for (byte x : a) {
            l.add(x);
        }
        return l;
    }

    private Dataset<Row> readBack(Path p) {
        return spark.read().format("safetensors").option("layout", "dataset").load(p.toString());
    }

    private static List<Path> files(Path root) throws Exception {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".safetensors"))
                    .sorted()
                    .collect(Collectors.toList());
        }
    }

    static SafetensorsHeader header(Path p) throws Exception {
        return HeaderReader.read(new LocalInputFile(p, Files.size(p)), 100_000_000L)
                .header();
    }

    private static List<String> sorted(Dataset<Row> df) {
        return df.collectAsList().stream().map(DatasetWriterTest::show).sorted().collect(Collectors.toList());
    }

    private static String show(Row r) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < r.length(); i++) {
            Object v = r.get(i);
            sb.append(v instanceof byte[] b ? Arrays.toString(b) : String.valueOf(v))
                    .append('|');
        }
        return sb.toString();
    }

    @Test
    void everyColumnTypeRoundTripsExactly() throws Exception {
        Dataset<Row> df = allTypes(50).repartition(3);
        Path out = dir.resolve("all");
        df.write()
                .format("safetensors")
                .option("layout", "dataset")
                .option("shape.raw", "2,2")
                .option("dtype.raw", "I8")
                .save(out.toString());
        assertTrue(Files.exists(out.resolve("_SUCCESS")));
        Dataset<Row> back = readBack(out);
        assertEquals(ALL_TYPES, back.schema());
        assertEquals(sorted(df), sorted(back));
        List<Path> files = files(out);
        assertFalse(files.isEmpty());
        SafetensorsHeader h = header(files.get(0));
        Map<String, TensorEntry> byName = byName(h);
        long rows = Long.parseLong(h.metadata().get("spark.rows"));
        assertEquals(DType.F64, byName.get("d").dtype());
        assertArrayEquals(new long[] {rows}, byName.get("d").shape());
        assertEquals(DType.BOOL, byName.get("z").dtype());
        assertArrayEquals(new long[] {rows, 3}, byName.get("emb").shape());
        assertEquals(DType.F32, byName.get("emb").dtype());
        assertArrayEquals(new long[] {rows, 3, 2}, byName.get("img").shape());
        assertEquals(DType.I8, byName.get("img").dtype());
        assertArrayEquals(new long[] {rows, 2, 2}, byName.get("raw").shape());
        assertEquals("dataset", h.metadata().get("spark.layout"));
        assertTrue(
                files.get(0).getFileName().toString().matches("part-\\d{5}-.*-c000\\.safetensors"),
                files.get(0).toString());
    }

    private static Map<String, TensorEntry> byName(SafetensorsHeader h) {
        Map<String, TensorEntry> m = new HashMap<>();
        h.tensors().forEach(t -> m.put(t.name(), t));
        return m;
    }

    @Test
    void rowsPerFileSplitsFilesAndReadsSplitRows() throws Exception {
        Path out = dir.resolve("split");
        Dataset<Row> df = allTypes(25).coalesce(1);
        df.write()
                .format("safetensors")
                .option("layout", "dataset")
                .option("rowsPerFile", "10")
                .option("shape.raw", "4")
                .save(out.toString());
        List<Path> files = files(out);
        assertEquals(3, files.size(), files.toString());
        List<Long> rows = new ArrayList<>();
        for (Path p : files) {
            rows.add(Long.parseLong(header(p).metadata().get("spark.rows")));
        }
        assertEquals(List.of(10L, 10L, 5L), rows);
        Dataset<Row> back = spark.read()
                .format("safetensors")
                .option("layout", "dataset")
                .option("maxPartitionBytes", "200")
                .load(out.toString());
        assertTrue(back.rdd().getNumPartitions() > 3, "a file's rows are read by several tasks");
        assertEquals(sorted(df.select("d", "raw", "img")), sorted(back.select("d", "raw", "img")));
    }

    @Test
    void raggedArraysAreRefusedOrPadded() throws Exception {
        StructType schema = new StructType()
                .add("id", DataTypes.IntegerType, false)
                .add("tokens", DataTypes.createArrayType(DataTypes.IntegerType, false), false);
        Dataset<Row> df = spark.createDataFrame(
                        List.of(
                                RowFactory.create(1, List.of(1, 2, 3)),
                                RowFactory.create(2, List.of(4)),
                                RowFactory.create(3, List.of(5, 6))),
                        schema)
                .coalesce(1);
        Exception e = refused(df, dir.resolve("ragged"));
        String m = messages(e);
        assertTrue(
                m.contains(
                        "column 'tokens' is ragged: row 1 of input partition 0 has lengths [1] where earlier rows have [3]"),
                m);
        Path out = dir.resolve("padded");
        df.write()
                .format("safetensors")
                .option("layout", "dataset")
                .option("ragged", "pad")
                .save(out.toString());
        SafetensorsHeader h = header(files(out).get(0));
        Map<String, TensorEntry> byName = byName(h);
        assertArrayEquals(new long[] {3, 3}, byName.get("tokens").shape());
        assertEquals(DType.I64, byName.get("tokens.lengths").dtype());
        assertEquals(sorted(df), sorted(readBack(out)));
    }

    private static long[] longs(Path file, TensorEntry t) throws Exception {
        SafetensorsHeader h = header(file);
        ByteBuffer b = ByteBuffer.wrap(
                        Files.readAllBytes(file), (int) (h.dataStart() + t.begin()), (int) t.byteLength())
                .slice()
                .order(ByteOrder.LITTLE_ENDIAN);
        long[] out = new long[(int) (t.byteLength() / 8)];
        b.asLongBuffer().get(out);
        return out;
    }

    private static final StructType NESTED = new StructType()
            .add("id", DataTypes.IntegerType, false)
            .add(
                    "sents",
                    DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.IntegerType, false), false),
                    false);

    @Test
    void nestedRaggedArraysArePaddedInEveryDimension() throws Exception {
        Dataset<Row> df = spark.createDataFrame(
                        List.of(
                                RowFactory.create(0, List.of(List.of(1, 2, 3), List.of(4))),
                                RowFactory.create(1, List.of(List.of(5))),
                                RowFactory.create(2, List.of()),
                                RowFactory.create(3, List.of(List.of(), List.of(6, 7), List.of(8, 9, 10, 11)))),
                        NESTED)
                .coalesce(1);
        Exception ragged = refused(df, dir.resolve("refused"));
        assertTrue(
                messages(ragged)
                        .contains("column 'sents' is ragged: row 0 of input partition 0 has arrays of lengths 3 and 1"
                                + " along dimension 2"),
                messages(ragged));

        Path out = dir.resolve("nested");
        df.write()
                .format("safetensors")
                .option("layout", "dataset")
                .option("ragged", "pad")
                .save(out.toString());
        Path file = files(out).get(0);
        Map<String, TensorEntry> byName = byName(header(file));
        assertArrayEquals(new long[] {4, 3, 4}, byName.get("sents").shape());
        assertArrayEquals(new long[] {4}, byName.get("sents.lengths").shape());
        assertArrayEquals(new long[] {4, 3}, byName.get("sents.lengths.2").shape());
        assertArrayEquals(new long[] {2, 1, 0, 3}, longs(file, byName.get("sents.lengths")));
        assertArrayEquals(new long[] {3, 1, 0, 1, 0, 0, 0, 0, 0, 0, 2, 4}, longs(file, byName.get("sents.lengths.2")));
        TensorEntry data = byName.get("sents");
        ByteBuffer b = ByteBuffer.wrap(
                        Files.readAllBytes(file), (int) (header(file).dataStart() + data.begin()), (int)
                                data.byteLength())
                .slice()
                .order(ByteOrder.LITTLE_ENDIAN);
        int[] values = new int[48];
        b.asIntBuffer().get(values);
        int[] expected = new int[48];
        int[][][] rows = {{{1, 2, 3}, {4}}, {{5}}, {}, {{}, {6, 7}, {8, 9, 10, 11}}};
        for (int r = 0; r < rows.length; r++) {
            for (int i = 0; i < rows[r].length; i++) {
                System.arraycopy(rows[r][i], 0, expected, r * 12 + i * 4, rows[r][i].length);
            }
        }
        assertArrayEquals(expected, values, "each dimension padded with zeros");
        assertEquals(sorted(df), sorted(readBack(out)));
    }

    @Test
    void threeLevelRaggedArraysRoundTripAcrossFilesAndSplits() throws Exception {
        StructType schema = new StructType()
                .add("id", DataTypes.IntegerType, false)
                .add(
                        "cube",
                        DataTypes.createArrayType(
                                DataTypes.createArrayType(
                                        DataTypes.createArrayType(DataTypes.DoubleType, false), false),
                                false),
                        false)
                .add("v", DataTypes.createArrayType(DataTypes.FloatType, false), false);
        java.util.Random random = new java.util.Random(15);
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < 60; r++) {
            List<List<List<Double>>> cube = new ArrayList<>();
            for (int i = random.nextInt(4); i > 0; i--) {
                List<List<Double>> plane = new ArrayList<>();
                for (int j = random.nextInt(4); j > 0; j--) {
                    List<Double> line = new ArrayList<>();
                    for (int k = random.nextInt(5); k > 0; k--) {
                        line.add(random.nextGaussian());
                    }
                    plane.add(line);
                }
                cube.add(plane);
            }
            List<Float> v = new ArrayList<>();
            for (int k = random.nextInt(6); k > 0; k--) {
                v.add(random.nextFloat());
            }
            rows.add(RowFactory.create(r, cube, v));
        }
        Dataset<Row> df = spark.createDataFrame(rows, schema).repartition(2);
        Path out = dir.resolve("cube");
        df.write()
                .format("safetensors")
                .option("layout", "dataset")
                .option("ragged", "pad")
                .option("rowsPerFile", "7")
                .save(out.toString());
        Map<String, TensorEntry> byName = byName(header(files(out).get(0)));
        assertEquals(3, byName.get("cube.lengths.3").shape().length);
        assertEquals(1, byName.get("v.lengths").shape().length);
        Dataset<Row> back = spark.read()
                .format("safetensors")
                .option("layout", "dataset")
                .option("maxPartitionBytes", "300")
                .load(out.toString());
        assertTrue(back.rdd().getNumPartitions() > files(out).size(), "files split into row ranges");
        assertEquals(sorted(df), sorted(back));
        assertEquals(sorted(df.select("cube")), sorted(back.select("cube")));
    }

    @Test
    void aLengthBeyondItsPaddedDimensionIsAMalformedFile() throws Exception {
        Dataset<Row> df = spark.createDataFrame(
                        List.of(
                                RowFactory.create(0, List.of(List.of(1, 2), List.of(3))),
                                RowFactory.create(1, List.of(List.of(4)))),
                        NESTED)
                .coalesce(1);
        Path out = dir.resolve("bad-lengths");
        df.write()
                .format("safetensors")
                .option("layout", "dataset")
                .option("ragged", "pad")
                .save(out.toString());
        Path file = files(out).get(0);
        SafetensorsHeader h = header(file);
        TensorEntry inner = byName(h).get("sents.lengths.2");
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong((int) (h.dataStart() + inner.begin()), 99);
        Files.write(file, bytes);
        Files.deleteIfExists(file.resolveSibling("." + file.getFileName() + ".crc"));
        Exception e = assertThrows(Exception.class, () -> readBack(out).collectAsList());
        String m = messages(e);
        assertTrue(m.contains("tensor 'sents.lengths.2': length 99 lies outside [0, 2]"), m);
        assertTrue(m.contains(file.getFileName().toString()), m);
    }

    private static final StructType TOKENS = new StructType()
            .add("id", DataTypes.IntegerType, false)
            .add("tokens", DataTypes.createArrayType(DataTypes.IntegerType, false), true);

    /** Rows {@code from..from+n-1} in two input partitions, the first half's arrays of one length, the rest's another. */
    private Dataset<Row> twoPartitions(int from, int n, int firstLength, int secondLength) {
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            int[] tokens = new int[r < n / 2 ? firstLength : secondLength];
            for (int t = 0; t < tokens.length; t++) {
                tokens[t] = (from + r) * 10 + t;
            }
            rows.add(RowFactory.create(from + r, tokens)); // an RDD's rows take arrays, not java.util.List
        }
        JavaRDD<Row> rdd =
                JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, 2);
        return spark.createDataFrame(rdd, TOKENS);
    }

    private void writeTo(Dataset<Row> df, Path out, String mode, String... options) {
        DataFrameWriter<Row> w =
                df.write().format("safetensors").option("layout", "dataset").mode(mode);
        for (int i = 0; i < options.length; i += 2) {
            w = w.option(options[i], options[i + 1]);
        }
        w.save(out.toString());
    }

    @Test
    void tasksThatDisagreeOnLengthsFailTheJobBeforeAnythingIsPublished() throws Exception {
        Dataset<Row> df = twoPartitions(0, 10, 3, 4);
        assertEquals(2, df.rdd().getNumPartitions());
        Path out = dir.resolve("across");
        Exception e = assertThrows(Exception.class, () -> writeTo(df, out, "errorifexists"));
        String m = messages(e);
        assertTrue(m.contains("column 'tokens' is ragged across tasks: its rows have shape [3] in part-00000-"), m);
        assertTrue(m.contains(" but [4] in part-00001-"), m);
        assertTrue(!Files.exists(out) || files(out).isEmpty(), "no data file published");
        assertFalse(Files.exists(out.resolve("_SUCCESS")));

        // Padded, each file has its own width, and the rows read back exact.
        Path padded = dir.resolve("across-padded");
        writeTo(df, padded, "errorifexists", "ragged", "pad");
        List<Long> widths = new ArrayList<>();
        for (Path f : files(padded)) {
            widths.add(byName(header(f)).get("tokens").shape()[1]);
        }
        assertEquals(List.of(3L, 4L), widths.stream().sorted().collect(Collectors.toList()));
        assertEquals(sorted(df), sorted(readBack(padded)));
    }

    @Test
    void aFailedOverwriteLeavesTheOldDataReadable() throws Exception {
        Path out = dir.resolve("overwrite");
        Dataset<Row> old = twoPartitions(0, 6, 2, 2);
        writeTo(old, out, "errorifexists");
        List<String> before = sorted(readBack(out));
        assertEquals(sorted(old), before);

        // Fails at the job's commit: the tasks wrote arrays of different lengths.
        assertThrows(Exception.class, () -> writeTo(twoPartitions(100, 6, 2, 5), out, "overwrite"));
        assertEquals(before, sorted(readBack(out)), "old data kept when the commit fails");
        assertTrue(Files.exists(out.resolve("_SUCCESS")));

        // Fails in a task: a null in the second input partition's last row.
        List<Row> poisoned = new ArrayList<>(twoPartitions(200, 6, 2, 2).collectAsList());
        poisoned.set(5, RowFactory.create(205, null));
        Dataset<Row> bad = spark.createDataFrame(
                JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(poisoned, 2), TOKENS);
        Exception e = assertThrows(Exception.class, () -> writeTo(bad, out, "overwrite"));
        assertTrue(messages(e).contains("column 'tokens' holds a null in row 2 of input partition 1"), messages(e));
        assertEquals(before, sorted(readBack(out)), "old data kept when a task fails");
        assertEquals(2, files(out).size());

        Dataset<Row> fresh = twoPartitions(300, 4, 3, 3);
        writeTo(fresh, out, "overwrite");
        assertEquals(sorted(fresh), sorted(readBack(out)), "a committed overwrite replaces everything");
        assertEquals(2, files(out).size(), "no old file left");

        // Overwriting the folder the job reads: the inputs are read before the commit deletes them.
        readBack(out)
                .selectExpr("id + 1000 as id", "tokens")
                .write()
                .format("safetensors")
                .option("layout", "dataset")
                .mode("overwrite")
                .save(out.toString());
        assertEquals(
                sorted(fresh.selectExpr("id + 1000 as id", "tokens")), sorted(readBack(out)), "rewritten in place");
    }

    @Test
    void withAnotherCommitProtocolTheWriteIsThatProtocols() throws Exception {
        String key = "spark.sql.sources.commitProtocolClass";
        String before = spark.conf().get(key);
        spark.conf().set(key, "org.apache.spark.internal.io.HadoopMapReduceCommitProtocol");
        try {
            assertFalse(DatasetWriteJob.runsDatasetCommitter(spark));
            Path out = dir.resolve("other-protocol");
            writeTo(twoPartitions(0, 4, 2, 2), out, "errorifexists");
            Dataset<Row> fresh = twoPartitions(10, 4, 3, 3);
            writeTo(fresh, out, "overwrite");
            assertEquals(sorted(fresh), sorted(readBack(out)), "Spark's own overwrite");
        } finally {
            spark.conf().set(key, before);
        }
        assertTrue(DatasetWriteJob.runsDatasetCommitter(spark));
    }

    @Test
    void dynamicOverwriteReplacesOnlyThePartitionsWritten() throws Exception {
        StructType schema =
                new StructType().add("split", DataTypes.StringType, false).add("x", DataTypes.IntegerType, false);
        Path out = dir.resolve("dynamic");
        Dataset<Row> old = spark.createDataFrame(
                List.of(RowFactory.create("a", 1), RowFactory.create("a", 2), RowFactory.create("b", 3)), schema);
        old.write()
                .format("safetensors")
                .option("layout", "dataset")
                .partitionBy("split")
                .save(out.toString());
        Dataset<Row> b = spark.createDataFrame(List.of(RowFactory.create("b", 30), RowFactory.create("b", 31)), schema);
        b.write()
                .format("safetensors")
                .option("layout", "dataset")
                .option("partitionOverwriteMode", "dynamic")
                .partitionBy("split")
                .mode("overwrite")
                .save(out.toString());
        assertEquals(
                List.of("1|a|", "2|a|", "30|b|", "31|b|"), sorted(readBack(out)), "split=a kept, split=b replaced");

        Dataset<Row> c = spark.createDataFrame(List.of(RowFactory.create("c", 5)), schema);
        c.write()
                .format("safetensors")
                .option("layout", "dataset")
                .partitionBy("split")
                .mode("overwrite")
                .save(out.toString());
        assertEquals(List.of("5|c|"), sorted(readBack(out)), "a static overwrite replaces every partition");
        assertFalse(Files.exists(out.resolve("split=a")));
    }

    @Test
    void nullsAreRefusedNamingColumnAndRow() {
        StructType schema = new StructType()
                .add("x", DataTypes.DoubleType, true)
                .add("v", DataTypes.createArrayType(DataTypes.DoubleType, true), true);
        Dataset<Row> df = spark.createDataFrame(
                        List.of(RowFactory.create(1.0, List.of(1.0)), RowFactory.create(null, List.of(2.0))), schema)
                .coalesce(1);
        Exception e = refused(df, dir.resolve("n1"));
        assertTrue(messages(e).contains("column 'x' holds a null in row 1 of input partition 0"), messages(e));
        Dataset<Row> df2 = spark.createDataFrame(List.of(RowFactory.create(1.0, Arrays.asList(1.0, null))), schema);
        Exception e2 = refused(df2, dir.resolve("n2"));
        assertTrue(messages(e2).contains("column 'v' holds a null in row 0"), messages(e2));
    }

    @Test
    void dtypeOverrideRoundsToBf16() throws Exception {
        StructType schema = new StructType()
                .add("emb", DataTypes.createArrayType(DataTypes.DoubleType, false), false)
                .add("y", DataTypes.FloatType, false);
        double[] values = {1.0, 1.00390625 + 1e-9, Math.PI, -65504.123, 1e-40};
        List<Double> boxed = Arrays.stream(values).boxed().collect(Collectors.toList());
        Dataset<Row> df = spark.createDataFrame(List.of(RowFactory.create(boxed, (float) Math.E)), schema)
                .coalesce(1);
        Path out = dir.resolve("bf16");
        df.write()
                .format("safetensors")
                .option("layout", "dataset")
                .option("dtype.emb", "BF16")
                .option("dtype.y", "f16")
                .save(out.toString());
        Path file = files(out).get(0);
        SafetensorsHeader h = header(file);
        TensorEntry emb = byName(h).get("emb");
        assertEquals(DType.BF16, emb.dtype());
        assertEquals(DType.F16, byName(h).get("y").dtype());
        byte[] all = Files.readAllBytes(file);
        ByteBuffer stored = ByteBuffer.wrap(all, (int) (h.dataStart() + emb.begin()), (int) emb.byteLength());
        ByteBuffer src = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : values) {
            src.putDouble(v);
        }
        src.flip();
        ByteBuffer expected = ByteBuffer.allocate(values.length * 2);
        FloatConversion.convert(DType.F64, DType.BF16, src, expected);
        expected.flip();
        assertEquals(expected, stored.slice(), "the writer's rounding");
        Row back = readBack(out).collectAsList().get(0);
        List<Double> read = back.getList(0);
        for (int i = 0; i < values.length; i++) {
            float bf = Float.intBitsToFloat((expected.getShort(i * 2) & 0xffff) << 16);
            assertEquals((double) bf, read.get(i));
        }
    }

    @Test
    void partitionByWritesFoldersAndReadsThemBack() throws Exception {
        StructType schema = new StructType()
                .add("split", DataTypes.StringType, false)
                .add("day", DataTypes.IntegerType, false)
                .add("x", DataTypes.FloatType, false);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            rows.add(RowFactory.create(i % 3 == 0 ? "test" : "train a/b", i % 2, (float) i));
        }
        Dataset<Row> df = spark.createDataFrame(rows, schema);
        Path out = dir.resolve("parts");
        df.write()
                .format("safetensors")
                .option("layout", "dataset")
                .partitionBy("split", "day")
                .save(out.toString());
        assertTrue(Files.isDirectory(out.resolve("split=test").resolve("day=0")));
        assertTrue(
                Files.isDirectory(out.resolve("split=train a%2Fb").resolve("day=1")),
                Files.list(out).toList().toString());
        Dataset<Row> back = readBack(out);
        assertEquals(List.of("x", "split", "day"), Arrays.asList(back.schema().fieldNames()));
        assertEquals(sorted(df.select("x", "split", "day")), sorted(back));
        assertEquals(10, back.where("split = 'test'").count());
    }

    @Test
    void aFailedJobLeavesNoVisibleOutput() throws Exception {
        Path out = dir.resolve("failed");
        Map<String, String> options = new HashMap<>(FaultyFileSystem.settings());
        options.put(FaultyFileSystem.FAIL_AFTER_BYTES, "100");
        options.put(FaultyFileSystem.FAIL_EVERY_ATTEMPT, "true");
        assertThrows(
                Exception.class,
                () -> allTypes(40)
                        .repartition(2)
                        .write()
                        .format("safetensors")
                        .option("layout", "dataset")
                        .option("shape.raw", "4")
                        .options(options)
                        .save(FaultyFileSystem.path(out)));
        assertTrue(!Files.exists(out) || files(out).isEmpty(), "no data file published");
        assertFalse(Files.exists(out.resolve("_SUCCESS")));
    }

    @Test
    void kvRoundTripsWithAnIndex() throws Exception {
        StructType schema = new StructType()
                .add("id", DataTypes.StringType, false)
                .add("emb", DataTypes.createArrayType(DataTypes.FloatType, false), false)
                .add("label", DataTypes.LongType, false);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            List<Float> emb = new ArrayList<>();
            for (int j = 0; j < 1 + i % 5; j++) {
                emb.add(i + j / 10f);
            }
            rows.add(RowFactory.create("doc" + i, emb, (long) i * 11));
        }
        Dataset<Row> df = spark.createDataFrame(rows, schema).repartition(2);
        Path out = dir.resolve("kv");
        df.write()
                .format("safetensors")
                .option("layout", "kv")
                .option("keyColumn", "id")
                .option("maxShardSize", "300")
                .save(out.toString());
        String index = Files.readString(out.resolve("model.safetensors.index.json"));
        assertTrue(index.contains("\"doc7/emb\": \"model-0000"), index);
        assertTrue(index.contains("\"doc7/label\""), index);
        Dataset<Row> back =
                spark.read().format("safetensors").option("layout", "kv").load(out.toString());
        assertEquals(schema, back.schema());
        assertEquals(sorted(df), sorted(back));
        assertEquals(
                List.of("doc3"),
                back.where("label = 33")
                        .select("id")
                        .as(org.apache.spark.sql.Encoders.STRING())
                        .collectAsList());
    }

    @Test
    void kvWithOneColumnNamesTensorsByKeyAndReadsIntegerKeys() throws Exception {
        StructType schema = new StructType()
                .add("id", DataTypes.IntegerType, false)
                .add("v", DataTypes.createArrayType(DataTypes.DoubleType, false), false);
        Dataset<Row> df = spark.createDataFrame(
                List.of(RowFactory.create(7, List.of(1.0, 2.0)), RowFactory.create(-3, List.of(0.5))), schema);
        Path out = dir.resolve("kv1");
        df.write()
                .format("safetensors")
                .option("layout", "kv")
                .option("keyColumn", "id")
                .option("dtype.v", "F32")
                .save(out.toString());
        SafetensorsHeader h = header(out.resolve("model.safetensors"));
        assertEquals(
                List.of("-3", "7"),
                h.tensors().stream().map(TensorEntry::name).sorted().collect(Collectors.toList()));
        assertEquals(DType.F32, h.tensors().get(0).dtype());
        Dataset<Row> back =
                spark.read().format("safetensors").option("layout", "kv").load(out.toString());
        assertEquals(sorted(df), sorted(back));
    }

    @Test
    void appendAddsPartFiles() throws Exception {
        Path out = dir.resolve("append");
        Dataset<Row> df = allTypes(4).coalesce(1);
        df.write()
                .format("safetensors")
                .option("layout", "dataset")
                .option("shape.raw", "4")
                .save(out.toString());
        df.write()
                .format("safetensors")
                .option("layout", "dataset")
                .option("shape.raw", "4")
                .mode("append")
                .save(out.toString());
        assertEquals(2, files(out).size());
        assertEquals(8, readBack(out).count());
    }

    @Test
    void anAppendOfAnotherLengthIsRefusedAndTheDatasetKeptAsItWas() throws Exception {
        Path out = dir.resolve("append-lengths");
        writeTo(twoPartitions(0, 6, 3, 3), out, "errorifexists");
        List<Path> before = files(out);
        Exception e = assertThrows(Exception.class, () -> writeTo(twoPartitions(6, 4, 4, 4), out, "append"));
        String m = messages(e);
        assertTrue(
                m.contains("column 'tokens' does not match the dataset it is appended to: its rows have shape [3] "
                        + "in the existing part-0000"),
                m);
        assertTrue(m.contains(" but [4] in the new part-0000"), m);
        assertEquals(before, files(out), "no file published");
        assertEquals(6, readBack(out).count());

        // The same length appends; padded columns may differ from file to file.
        writeTo(twoPartitions(6, 4, 3, 3), out, "append");
        assertEquals(10, readBack(out).count());
        Path padded = dir.resolve("append-padded");
        writeTo(twoPartitions(0, 6, 3, 3), padded, "errorifexists", "ragged", "pad");
        writeTo(twoPartitions(6, 4, 4, 4), padded, "append", "ragged", "pad");
        assertEquals(sorted(twoPartitions(0, 6, 3, 3).union(twoPartitions(6, 4, 4, 4))), sorted(readBack(padded)));
    }

    @Test
    void unsupportedColumnsAreRefusedBeforeAnyJob() {
        StructType schema = new StructType().add("name", DataTypes.StringType, false);
        Dataset<Row> df = spark.createDataFrame(List.of(RowFactory.create("a")), schema);
        Exception e = assertThrows(
                IllegalArgumentException.class,
                () -> df.write()
                        .format("safetensors")
                        .option("layout", "dataset")
                        .save(dir.resolve("x").toString()));
        assertTrue(
                e.getMessage().startsWith("Cannot write the dataset: column 'name' has the type string"),
                e.getMessage());
    }

    /** The failure of writing {@code df} as a dataset to {@code out}. */
    static Exception refused(Dataset<Row> df, Path out) {
        return assertThrows(
                Exception.class,
                () -> df.write()
                        .format("safetensors")
                        .option("layout", "dataset")
                        .save(out.toString()));
    }

    static String messages(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            sb.append(t.getMessage()).append(" | ");
        }
        return sb.toString();
    }
}
