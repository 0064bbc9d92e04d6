package io.sparktensors.spark.functions;

import io.sparktensors.analysis.TensorValues;
import io.sparktensors.errors.TensorErrors;
import io.sparktensors.format.DType;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The rows of a 2-D tensor (an embedding table): one struct per leading index, with that row's vector as
 * {@code array<float>}. {@code tensor_rows(data, dtype, shape[, chunk_start])} is registered as a generator
 * over this (Spark's {@code inline}), so it yields one output row per tensor row; {@code chunk_start}
 * numbers the rows of a chunk from its first index in the tensor.
 */
final class TensorRows extends TensorExpression {
    static final StructType ROW = new StructType()
            .add("index", DataTypes.LongType, false)
            .add("vector", DataTypes.createArrayType(DataTypes.FloatType, false), false);

    TensorRows(Expression data, Expression dtype, Expression shape, Expression chunkStart) {
        super(data, dtype, shape, chunkStart);
    }

    @Override
    String name() {
        return "tensor_rows";
    }

    @Override
    public DataType dataType() {
        return DataTypes.createArrayType(ROW, false);
    }

    @Override
    Object compute(Object[] v) {
        byte[] data = (byte[]) v[0];
        DType dtype = dtype(v[1]);
        ArrayData shape = (ArrayData) v[2];
        long start = ((Number) v[3]).longValue();
        if (shape.numElements() != 2) {
            throw TensorErrors.function(
                    "tensor_rows",
                    "the tensor must be 2-D, its shape has " + shape.numElements() + " dimensions",
                    null);
        }
        long width = shape.getLong(1);
        float[] values = TensorValues.toFloats(data, dtype);
        int per = (int) width * (dtype == DType.C64 ? 2 : 1);
        if (per == 0 ? values.length != 0 : values.length % per != 0) {
            throw TensorErrors.function("tensor_rows", values.length + " values are not whole rows of " + width, null);
        }
        int rows = per == 0 ? 0 : values.length / per;
        Object[] out = new Object[rows];
        for (int r = 0; r < rows; r++) {
            float[] vector = java.util.Arrays.copyOfRange(values, r * per, (r + 1) * per);
            out[r] = new GenericInternalRow(new Object[] {start + r, UnsafeArrayData.fromPrimitiveArray(vector)});
        }
        return new GenericArrayData(out);
    }

    @Override
    TensorExpression copy(Expression[] a) {
        return new TensorRows(a[0], a[1], a[2], a[3]);
    }
}
