package io.sparktensors.spark.write;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.format.DType;
import io.sparktensors.format.safetensors.SafetensorsHeader;
import io.sparktensors.format.safetensors.TensorEntry;
import io.sparktensors.testing.SparkTestBase;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Spark ML vector columns in {@code layout=dataset}: dense and sparse vectors become one {@code [rows, n]}
 * tensor (sparse ones densified), F64 or, with {@code dtype.COL}, F32; reading back gives ML vectors again,
 * dense, equal to the written ones. In src/test/java-spark4: spark-mllib is a test dependency of the Spark 4
 * line only (see the module POM).
 */
class DatasetVectorTest extends SparkTestBase {
    @TempDir
    Path dir;

    private static final StructType SCHEMA =
            new StructType().add("id", DataTypes.IntegerType, false).add("features", SQLDataTypes.VectorType(), false);

    /** Rows alternating dense and sparse vectors of size 5. */
    private static List<Row> vectorRows(int n) {
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            Vector v = r % 2 == 0
                    ? Vectors.dense(r, -r * 0.1, Math.PI * r, 0, 1.0 / (r + 1))
                    : Vectors.sparse(5, new int[] {1, 4}, new double[] {r * 1.25, -r / 3.0});
            rows.add(RowFactory.create(r, v));
        }
        return rows;
    }

    private Dataset<Row> readBack(Path p) {
        return spark.read().format("safetensors").option("layout", "dataset").load(p.toString());
    }

    private static List<Row> byId(Dataset<Row> df) {
        return df.collectAsList().stream()
                .sorted(Comparator.comparingInt(r -> r.getInt(0)))
                .collect(Collectors.toList());
    }

    private static Path firstFile(Path root) throws Exception {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".safetensors"))
                    .sorted()
                    .findFirst()
                    .orElseThrow();
        }
    }

    @Test
    void denseAndSparseVectorsRoundTripAsF64() throws Exception {
        Dataset<Row> df = spark.createDataFrame(vectorRows(40), SCHEMA).repartition(3);
        Path out = dir.resolve("f64");
        df.write().format("safetensors").option("layout", "dataset").save(out.toString());

        SafetensorsHeader h = DatasetWriterTest.header(firstFile(out));
        TensorEntry t = h.tensors().stream()
                .filter(e -> e.name().equals("features"))
                .findFirst()
                .orElseThrow();
        long rows = Long.parseLong(h.metadata().get("spark.rows"));
        assertEquals(DType.F64, t.dtype());
        assertArrayEquals(new long[] {rows, 5}, t.shape());

        Dataset<Row> back = readBack(out);
        assertEquals(SCHEMA, back.schema(), "read back as ML vectors");
        List<Row> expected = byId(df);
        List<Row> actual = byId(back);
        assertEquals(expected.size(), actual.size());
        for (int r = 0; r < expected.size(); r++) {
            Vector written = (Vector) expected.get(r).get(1);
            Object read = actual.get(r).get(1);
            assertInstanceOf(DenseVector.class, read, "vectors come back dense");
            assertArrayEquals(written.toArray(), ((Vector) read).toArray(), "row " + r);
            assertEquals(written, read, "ML vectors compare by value, dense or sparse");
        }
    }

    @Test
    void vectorsStoredAsF32ReadBackAsTheRoundedValues() throws Exception {
        List<Row> rows = vectorRows(12);
        Dataset<Row> df = spark.createDataFrame(rows, SCHEMA).coalesce(1);
        Path out = dir.resolve("f32");
        df.write()
                .format("safetensors")
                .option("layout", "dataset")
                .option("dtype.features", "F32")
                .save(out.toString());
        Path file = firstFile(out);
        SafetensorsHeader h = DatasetWriterTest.header(file);
        TensorEntry t = h.tensors().stream()
                .filter(e -> e.name().equals("features"))
                .findFirst()
                .orElseThrow();
        assertEquals(DType.F32, t.dtype());
        assertArrayEquals(new long[] {12, 5}, t.shape());

        // One input partition, so one file with the rows in order: each row's (densified) values as floats.
        ByteBuffer stored = ByteBuffer.wrap(Files.readAllBytes(file))
                .order(ByteOrder.LITTLE_ENDIAN)
                .position((int) (h.dataStart() + t.begin()));
        for (Row row : rows) {
            for (double v : ((Vector) row.get(1)).toArray()) {
                assertEquals((float) v, stored.getFloat());
            }
        }

        List<Row> expected = byId(df);
        List<Row> actual = byId(readBack(out));
        for (int r = 0; r < expected.size(); r++) {
            double[] written = ((Vector) expected.get(r).get(1)).toArray();
            double[] read = ((Vector) actual.get(r).get(1)).toArray();
            assertEquals(written.length, read.length);
            for (int i = 0; i < written.length; i++) {
                assertEquals((double) (float) written[i], read[i], "row " + r + " element " + i);
            }
        }
    }

    @Test
    void vectorsOfDifferentSizesAreRefusedNamingColumnAndRow() {
        Dataset<Row> df = spark.createDataFrame(
                        List.of(
                                RowFactory.create(0, Vectors.dense(1, 2, 3)),
                                RowFactory.create(1, Vectors.sparse(4, new int[] {0}, new double[] {7}))),
                        SCHEMA)
                .coalesce(1);
        Exception e = DatasetWriterTest.refused(df, dir.resolve("mixed"));
        String m = DatasetWriterTest.messages(e);
        assertTrue(
                m.contains("column 'features' is ragged: row 1 of input partition 0 has lengths [4]"
                        + " where earlier rows have [3]"),
                m);
    }

    @Test
    void vectorsOfDifferentSizesArePaddedOnRequest() throws Exception {
        Dataset<Row> df = spark.createDataFrame(
                        List.of(
                                RowFactory.create(0, Vectors.dense(1, 2, 3)),
                                RowFactory.create(1, Vectors.sparse(5, new int[] {4}, new double[] {7})),
                                RowFactory.create(2, Vectors.dense(-1))),
                        SCHEMA)
                .coalesce(1);
        Path out = dir.resolve("padded");
        df.write()
                .format("safetensors")
                .option("layout", "dataset")
                .option("ragged", "pad")
                .save(out.toString());
        SafetensorsHeader h = DatasetWriterTest.header(firstFile(out));
        assertEquals(
                List.of("features", "features.lengths", "id"),
                h.tensors().stream().map(TensorEntry::name).sorted().collect(Collectors.toList()));
        List<Row> actual = byId(readBack(out));
        assertArrayEquals(new double[] {1, 2, 3}, ((Vector) actual.get(0).get(1)).toArray());
        assertArrayEquals(new double[] {0, 0, 0, 0, 7}, ((Vector) actual.get(1).get(1)).toArray());
        assertArrayEquals(new double[] {-1}, ((Vector) actual.get(2).get(1)).toArray());
    }

    @Test
    void oldMllibVectorsAreStoredTheSameWay() throws Exception {
        StructType schema = new StructType()
                .add("id", DataTypes.IntegerType, false)
                .add("v", new org.apache.spark.mllib.linalg.VectorUDT(), false);
        Dataset<Row> df = spark.createDataFrame(
                List.of(
                        RowFactory.create(0, org.apache.spark.mllib.linalg.Vectors.dense(0.5, 1.5)),
                        RowFactory.create(
                                1,
                                org.apache.spark.mllib.linalg.Vectors.sparse(2, new int[] {1}, new double[] {-2.0}))),
                schema);
        Path out = dir.resolve("mllib");
        df.write().format("safetensors").option("layout", "dataset").save(out.toString());
        List<Row> actual = byId(readBack(out));
        assertEquals(schema, readBack(out).schema());
        assertArrayEquals(
                new double[] {0.5, 1.5},
                ((org.apache.spark.mllib.linalg.Vector) actual.get(0).get(1)).toArray());
        assertArrayEquals(
                new double[] {0, -2.0},
                ((org.apache.spark.mllib.linalg.Vector) actual.get(1).get(1)).toArray());
    }
}
