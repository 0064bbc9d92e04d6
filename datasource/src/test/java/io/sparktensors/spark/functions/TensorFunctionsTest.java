package io.sparktensors.spark.functions;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.format.DType;
import io.sparktensors.testing.SparkTestBase;
import io.sparktensors.testing.TestCheckpoints;
import io.sparktensors.testing.TestCheckpoints.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tensor SQL functions on real reads of files holding values chosen to catch decoding mistakes. */
class TensorFunctionsTest extends SparkTestBase {
    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        TensorFunctions.register(spark);
        TestCheckpoints.write(
                dir.resolve("values.safetensors"),
                Map.of(),
                List.of(
                        new Tensor("f32", DType.F32, new long[] {6}, le(4, b -> {
                            for (float f : new float[] {1.5f, -2f, Float.NaN, Float.POSITIVE_INFINITY, 0f, 3f}) {
                                b.putFloat(f);
                            }
                        })),
                        // BF16 1.0, -2.5, the smallest subnormal; F16 1.0, 65504 (max), the smallest subnormal 2^-24
                        new Tensor(
                                "bf16",
                                DType.BF16,
                                new long[] {3},
                                le(
                                        2,
                                        b -> b.putShort((short) 0x3F80)
                                                .putShort((short) 0xC020)
                                                .putShort((short) 0x0001))),
                        new Tensor(
                                "f16",
                                DType.F16,
                                new long[] {3},
                                le(
                                        2,
                                        b -> b.putShort((short) 0x3C00)
                                                .putShort((short) 0x7BFF)
                                                .putShort((short) 0x0001))),
                        // E4M3FN: 1.0, 448 (max), -448, NaN, the smallest subnormal 2^-9; E5M2: 1.0, inf, NaN, 57344
                        // (max)
                        new Tensor(
                                "e4m3", DType.F8_E4M3, new long[] {5}, new byte[] {0x38, 0x7E, (byte) 0xFE, 0x7F, 0x01
                                }),
                        new Tensor("e5m2", DType.F8_E5M2, new long[] {4}, new byte[] {0x3C, 0x7C, 0x7F, 0x7B}),
                        new Tensor("i8", DType.I8, new long[] {2}, new byte[] {(byte) 0x80, 0x7F}),
                        new Tensor("u64", DType.U64, new long[] {1}, le(8, b -> b.putLong(-1L))),
                        new Tensor("emb", DType.F32, new long[] {3, 2}, le(4, b -> {
                            for (int i = 0; i < 6; i++) {
                                b.putFloat(i);
                            }
                        }))));
    }

    private interface Fill {
        void fill(ByteBuffer b);
    }

    private static byte[] le(int width, Fill fill) {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        fill.fill(b);
        byte[] out = new byte[b.position()];
        b.flip().get(out);
        return out;
    }

    private static Dataset<Row> tensors() {
        return spark.read()
                .format("safetensors")
                .load(dir.resolve("values.safetensors").toString());
    }

    private static double[] doubles(String name) {
        Row r = tensors()
                .where("name = '" + name + "'")
                .selectExpr("tensor_to_double_array(data, dtype)")
                .first();
        return r.<Double>getList(0).stream().mapToDouble(Double::doubleValue).toArray();
    }

    @Test
    void decodesEveryFloatFormatExactly() {
        assertArrayEquals(new double[] {1.5, -2, Double.NaN, Double.POSITIVE_INFINITY, 0, 3}, doubles("f32"));
        assertArrayEquals(new double[] {1.0, -2.5, Math.scalb(1.0, -133)}, doubles("bf16"));
        assertArrayEquals(new double[] {1.0, 65504, Math.scalb(1.0, -24)}, doubles("f16"));
        assertArrayEquals(new double[] {1.0, 448, -448, Double.NaN, Math.scalb(1.0, -9)}, doubles("e4m3"));
        assertArrayEquals(new double[] {1.0, Double.POSITIVE_INFINITY, Double.NaN, 57344}, doubles("e5m2"));
        assertArrayEquals(new double[] {-128, 127}, doubles("i8"));
        assertArrayEquals(new double[] {18446744073709551615.0}, doubles("u64"));
        Row floats = tensors()
                .where("name = 'bf16'")
                .selectExpr("tensor_to_array(data, dtype)")
                .first();
        assertEquals(List.of(1.0f, -2.5f, Float.intBitsToFloat(0x00010000)), floats.getList(0));
    }

    @Test
    void statsCountNonFiniteValuesApartAndMergeChunksExactly() {
        Row s = tensors()
                .where("name = 'f32'")
                .selectExpr("tensor_stats(data, dtype) AS s")
                .selectExpr("s.*")
                .first();
        // finite values: 1.5, -2, 0, 3
        assertEquals(6L, s.getLong(s.fieldIndex("count")));
        assertEquals(1L, s.getLong(s.fieldIndex("nans")));
        assertEquals(1L, s.getLong(s.fieldIndex("infs")));
        assertEquals(1L, s.getLong(s.fieldIndex("zeros")));
        assertEquals(-2.0, s.getDouble(s.fieldIndex("min")));
        assertEquals(3.0, s.getDouble(s.fieldIndex("max")));
        assertEquals(0.625, s.getDouble(s.fieldIndex("mean")), 1e-15);
        double var = ((1.5 - .625) * (1.5 - .625) + 2.625 * 2.625 + .625 * .625 + 2.375 * 2.375) / 4;
        assertEquals(Math.sqrt(var), s.getDouble(s.fieldIndex("std")), 1e-12);
        assertEquals(Math.sqrt(2.25 + 4 + 9), s.getDouble(s.fieldIndex("l2")), 1e-12);

        // A large tensor read in many chunks: merged chunk statistics equal the whole tensor's.
        float[] values = new float[100_000];
        java.util.Random random = new java.util.Random(7);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * 3 + 1);
        }
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        Path big = dir.resolve("big.safetensors");
        try {
            TestCheckpoints.write(
                    big, Map.of(), List.of(new Tensor("w", DType.F32, new long[] {1000, 100}, b.array())));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Dataset<Row> chunked = spark.read()
                .format("safetensors")
                .option("maxChunkBytes", "4000")
                .load(big.toString());
        assertEquals(100L, chunked.count());
        Row merged = chunked.groupBy("name")
                .agg(TensorFunctions.tensorStatsMerge(
                                TensorFunctions.tensorStats(chunked.col("data"), chunked.col("dtype")))
                        .as("s"))
                .selectExpr("s.*")
                .first();
        double mean = 0;
        double m2 = 0;
        double sq = 0;
        for (int i = 0; i < values.length; i++) {
            double d = values[i] - mean;
            mean += d / (i + 1);
            m2 += d * (values[i] - mean);
            sq += (double) values[i] * values[i];
        }
        assertEquals(100_000L, merged.getLong(merged.fieldIndex("count")));
        assertEquals(mean, merged.getDouble(merged.fieldIndex("mean")), 1e-12);
        assertEquals(Math.sqrt(m2 / values.length), merged.getDouble(merged.fieldIndex("std")), 1e-9);
        assertEquals(Math.sqrt(sq), merged.getDouble(merged.fieldIndex("l2")), 1e-6);
    }

    @Test
    void castRoundsToNearestEven() {
        // 1 + 2^-8 lies halfway between two BF16 values: ties go to the even one (1.0); 1 + 3 * 2^-8 goes up.
        byte[] f32 = le(4, b -> b.putFloat(1.00390625f).putFloat(1.01171875f).putFloat(Float.NaN));
        Row r = spark.sql("SELECT tensor_cast(X'" + java.util.HexFormat.of().formatHex(f32) + "', 'F32', 'BF16')")
                .first();
        ByteBuffer out = ByteBuffer.wrap((byte[]) r.get(0)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x3F80, out.getShort() & 0xffff);
        assertEquals(0x3F82, out.getShort() & 0xffff);
        assertTrue(Float.isNaN(Float.intBitsToFloat((out.getShort() & 0xffff) << 16)));
    }

    @Test
    void diffStatsCompareTwoTensorsValueByValue() {
        byte[] a = le(4, b -> b.putFloat(1f).putFloat(2f).putFloat(Float.NaN).putFloat(4f));
        byte[] c = le(4, b -> b.putFloat(1f).putFloat(2.5f).putFloat(Float.NaN).putFloat(3f));
        String hex = "X'" + java.util.HexFormat.of().formatHex(a) + "', X'"
                + java.util.HexFormat.of().formatHex(c) + "'";
        Row d = spark.sql("SELECT tensor_diff_stats(" + hex + ", 'F32') AS d")
                .selectExpr("d.*")
                .first();
        assertEquals(4L, d.getLong(d.fieldIndex("count")));
        assertEquals(2L, d.getLong(d.fieldIndex("differing")));
        assertEquals(1.0, d.getDouble(d.fieldIndex("max_abs")));
        assertEquals(0.25, d.getDouble(d.fieldIndex("max_rel")));
        assertEquals((0.25 + 1.0) / 3, d.getDouble(d.fieldIndex("mse")), 1e-15);
    }

    @Test
    void diffStatsCompareSixtyFourBitIntegersExactly() {
        // 2^53 and 2^53 + 1 are one double apart only in exact arithmetic: as doubles they are equal.
        byte[] a = le(8, b -> b.putLong(1L << 53).putLong(7));
        byte[] c = le(8, b -> b.putLong((1L << 53) + 1).putLong(7));
        String hex = "X'" + java.util.HexFormat.of().formatHex(a) + "', X'"
                + java.util.HexFormat.of().formatHex(c) + "'";
        Row d = spark.sql("SELECT tensor_diff_stats(" + hex + ", 'I64') AS d")
                .selectExpr("d.*")
                .first();
        assertEquals(1L, d.getLong(d.fieldIndex("differing")));
    }

    @Test
    void rowsTurnAnEmbeddingTableIntoRows() {
        tensors().where("name = 'emb'").createOrReplaceTempView("emb");
        List<Row> rows = spark.sql("SELECT name, tensor_rows(data, dtype, shape, chunk_start) FROM emb ORDER BY index")
                .collectAsList();
        assertEquals(3, rows.size());
        assertEquals(2L, rows.get(2).getLong(1));
        assertEquals(List.of(4.0f, 5.0f), rows.get(2).getList(2));
    }

    @Test
    void badArgumentsGiveClearErrors() {
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(
                Exception.class,
                () -> spark.sql("SELECT tensor_stats(X'00', 'Q4')").collect());
        assertTrue(e.getMessage().contains("unknown dtype 'Q4'"), e.getMessage());
        Exception arity = org.junit.jupiter.api.Assertions.assertThrows(
                Exception.class, () -> spark.sql("SELECT tensor_stats(X'00')").collect());
        assertTrue(arity.getMessage().contains("tensor_stats takes 2 arguments"), arity.getMessage());
    }
}
