package io.sparktensors.examples;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sha2;

import io.sparktensors.format.DType;
import io.sparktensors.spark.TensorColumns;
import io.sparktensors.spark.compat.ScalaCollections;
import io.sparktensors.spark.functions.TensorFunctions;
import io.sparktensors.spark.source.TensorsDataSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Two checkpoints side by side, chunk by chunk, without their values: each chunk's dtype, shape and SHA-256,
 * and for the first checkpoint optionally its sum of squares. The hashes and sums are computed inside the
 * scans from the bytes read ({@code sha2(data, 256)} and {@code tensor_stats} become the scan's computed
 * columns), so no tensor becomes a Spark value; chunks whose hashes agree are equal and need no decoding.
 */
final class ChunkDigests {
    /** One tensor of one side: its kind, and per chunk its hash (and for side A its sum of squares). */
    record Tensor(
            String dtype,
            String shapeText,
            long[] shape,
            int chunkCount,
            Map<Integer, String> hashes,
            double sumSquares) {
        /** dtype and shape, as the diff compares them. */
        String kind() {
            return dtype + shapeText;
        }

        /**
         * The values the tensor holds, as the value-by-value comparison counts them (a C64 element is two): a
         * whole tensor's count without reading it.
         */
        long values() {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return DType.C64.code().equals(dtype) ? Math.multiplyExact(n, 2) : n;
        }
    }

    /** Both sides, by tensor name. */
    record Sides(Map<String, Tensor> a, Map<String, Tensor> b) {}

    private ChunkDigests() {}

    /** A checkpoint as the tensors source reads it, the SQL functions registered (so scans compute digests). */
    static Dataset<Row> read(SparkSession spark, String path, Map<String, String> options) {
        TensorFunctions.register(spark);
        return spark.read()
                .format(TensorsDataSource.SHORT_NAME)
                .options(options)
                .load(path);
    }

    /** One job over both checkpoints; {@code sumSquaresOfA} also sums A's squared values (finite ones). */
    static Sides of(Dataset<Row> a, Dataset<Row> b, boolean sumSquaresOfA) {
        Dataset<Row> rows = digests(a, "a", sumSquaresOfA).unionByName(digests(b, "b", false));
        Map<String, Map<Integer, Row>> chunksA = new TreeMap<>();
        Map<String, Map<Integer, Row>> chunksB = new TreeMap<>();
        for (Row r : rows.collectAsList()) {
            (r.getString(0).equals("a") ? chunksA : chunksB)
                    .computeIfAbsent(r.getString(1), k -> new TreeMap<>())
                    .put(r.getInt(2), r);
        }
        return new Sides(tensors(chunksA), tensors(chunksB));
    }

    private static Dataset<Row> digests(Dataset<Row> df, String side, boolean sumSquares) {
        Column squares = sumSquares
                ? org.apache.spark.sql.functions.expr("tensor_stats(data, dtype).sum_squares")
                : lit(null).cast(DataTypes.DoubleType);
        return df.select(
                lit(side).as("side"),
                col(TensorColumns.NAME),
                col(TensorColumns.CHUNK),
                col(TensorColumns.CHUNK_COUNT),
                col(TensorColumns.DTYPE),
                col(TensorColumns.SHAPE).cast("string").as("shape_text"),
                col(TensorColumns.SHAPE),
                sha2(col(TensorColumns.DATA), 256).as("sha256"),
                squares.as("sum_squares"));
    }

    private static Map<String, Tensor> tensors(Map<String, Map<Integer, Row>> chunks) {
        Map<String, Tensor> out = new TreeMap<>();
        chunks.forEach((name, byChunk) -> {
            Row first = byChunk.values().iterator().next();
            Map<Integer, String> hashes = new TreeMap<>();
            double squares = 0;
            for (Row r : byChunk.values()) {
                hashes.put(r.getInt(2), r.getString(7));
                squares += r.isNullAt(8) ? 0 : r.getDouble(8);
            }
            List<Long> shape = first.getList(6);
            out.put(
                    name,
                    new Tensor(
                            first.getString(4),
                            first.getString(5),
                            shape.stream().mapToLong(Long::longValue).toArray(),
                            first.getInt(3),
                            hashes,
                            squares));
        });
        return out;
    }

    /** The chunks of tensors both sides hold with one dtype, shape and chunking whose bytes differ. */
    static List<Row> differingChunks(Sides s, List<String> compared) {
        List<Row> out = new ArrayList<>();
        for (String name : compared) {
            Map<Integer, String> hb = s.b().get(name).hashes();
            s.a().get(name).hashes().forEach((chunk, hash) -> {
                if (hb.containsKey(chunk) && !hash.equals(hb.get(chunk))) {
                    out.add(RowFactory.create(name, chunk));
                }
            });
        }
        return out;
    }

    /** Tensors both sides hold with one dtype, shape and chunking: those compared value by value. */
    static List<String> comparable(Sides s) {
        List<String> out = new ArrayList<>();
        s.a().forEach((name, ta) -> {
            Tensor tb = s.b().get(name);
            if (tb != null && ta.kind().equals(tb.kind()) && ta.chunkCount() == tb.chunkCount()) {
                out.add(name);
            }
        });
        return out;
    }

    /**
     * {@code side}'s rows of the differing chunks only: the names filter is pushed into the scan (other
     * tensors are never read), and a join on the small list of chunks keeps the chunks that differ.
     */
    static Dataset<Row> only(SparkSession spark, Dataset<Row> side, List<Row> chunks) {
        StructType schema = new StructType()
                .add(TensorColumns.NAME, DataTypes.StringType, false)
                .add(TensorColumns.CHUNK, DataTypes.IntegerType, false);
        Dataset<Row> keys = spark.createDataFrame(chunks, schema);
        Object[] names = chunks.stream().map(r -> r.getString(0)).distinct().toArray();
        return side.where(col(TensorColumns.NAME).isin(names))
                .join(
                        org.apache.spark.sql.functions.broadcast(keys),
                        ScalaCollections.toScalaList(List.of(TensorColumns.NAME, TensorColumns.CHUNK)),
                        "left_semi");
    }
}
