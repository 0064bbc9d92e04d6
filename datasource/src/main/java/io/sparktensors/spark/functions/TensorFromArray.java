package io.sparktensors.spark.functions;

import io.sparktensors.format.DType;
import io.sparktensors.format.safetensors.TensorEntry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.types.DataType;

/**
 * {@code tensor_from_array(array, dtype)}: a (nested, rectangular) array as one tensor, struct(data, shape),
 * the bytes little-endian in {@code dtype}, floats rounded as the writer rounds.
 */
final class TensorFromArray extends TensorExpression {
    private static final long serialVersionUID = 1L;

    TensorFromArray(Expression array, Expression dtype) {
        super(array, dtype);
    }

    @Override
    String name() {
        return "tensor_from_array";
    }

    @Override
    public DataType dataType() {
        return ArrayTensors.TYPE;
    }

    @Override
    Object compute(Object[] v) {
        DataType type = children().head().dataType();
        DataType leaf = ArrayTensors.leaf(name(), type);
        DType dtype = ArrayTensors.target(name(), dtype(v[1]));
        ArrayData a = (ArrayData) v[0];
        long[] shape = ArrayTensors.shape(a, type);
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(dtype.byteSize(TensorEntry.elementCount(shape))))
                .order(ByteOrder.LITTLE_ENDIAN);
        ArrayTensors.encode(name(), a, shape, 0, leaf, dtype, out);
        return ArrayTensors.row(out.array(), shape);
    }

    @Override
    TensorExpression copy(Expression[] a) {
        return new TensorFromArray(a[0], a[1]);
    }
}
