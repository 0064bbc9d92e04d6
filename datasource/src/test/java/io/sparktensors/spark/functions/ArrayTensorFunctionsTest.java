package io.sparktensors.spark.functions;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.format.DType;
import io.sparktensors.format.FloatConversion;
import io.sparktensors.testing.SparkTestBase;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ArrayTensorFunctionsTest extends SparkTestBase {
    @BeforeAll
    static void register() {
        TensorFunctions.register(spark);
    }

    @Test
    void tensorFromArrayEncodesNestedArrays() {
        Row r = spark.sql("SELECT tensor_from_array(array(array(1, 2, 3), array(4, 5, 6)), 'I16') AS t")
                .first()
                .getStruct(0);
        assertEquals(List.of(2L, 3L), r.getList(1));
        ByteBuffer b = ByteBuffer.wrap((byte[]) r.get(0)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 1; i <= 6; i++) {
            assertEquals(i, b.getShort());
        }
        Row f = spark.sql("SELECT tensor_from_array(array(cast(3.14159 as double), 1e-3), 'BF16') AS t")
                .first()
                .getStruct(0);
        ByteBuffer src = ByteBuffer.allocate(16)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putDouble(3.14159)
                .putDouble(1e-3);
        src.flip();
        ByteBuffer expected = ByteBuffer.allocate(4);
        FloatConversion.convert(DType.F64, DType.BF16, src, expected);
        assertArrayEquals(expected.array(), (byte[]) f.get(0));
        Exception e = assertThrows(
                Exception.class,
                () -> spark.sql("SELECT tensor_from_array(array(array(1, 2), array(3)), 'I32')")
                        .collect());
        assertTrue(e.getMessage().contains("ragged"), e.getMessage());
    }

    @Test
    void tensorStackBuildsOneRowsByNTensor() {
        Row r = spark.sql(
                        "SELECT tensor_stack(v, 'F32') FROM (SELECT array(cast(id as float), cast(id * 2 as float)) AS v "
                                + "FROM range(0, 10, 1, 1))")
                .first()
                .getStruct(0);
        assertEquals(List.of(10L, 2L), r.getList(1));
        ByteBuffer b = ByteBuffer.wrap((byte[]) r.get(0)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 10; i++) {
            assertEquals(i, b.getFloat());
            assertEquals(2 * i, b.getFloat());
        }
        Row g = spark.sql("SELECT k, tensor_stack(array(id), 'I64') AS t FROM (SELECT id, id % 2 AS k FROM range(8)) "
                        + "GROUP BY k ORDER BY k")
                .collectAsList()
                .get(1)
                .getStruct(1);
        assertEquals(List.of(4L, 1L), g.getList(1));
    }
}
