package io.sparktensors.spark.functions;

import io.sparktensors.errors.TensorErrors;
import io.sparktensors.format.DType;
import io.sparktensors.format.FloatConversion;
import java.nio.ByteBuffer;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/**
 * {@code tensor_cast(data, dtype, target)}: re-encodes F64, F32, F16 or BF16 data as F32, F16 or BF16 with
 * the writer's rounding (round to nearest even; NaN stays NaN, overflow becomes infinity).
 */
final class TensorCast extends TensorExpression {

    TensorCast(Expression data, Expression dtype, Expression target) {
        super(data, dtype, target);
    }

    @Override
    String name() {
        return "tensor_cast";
    }

    @Override
    public DataType dataType() {
        return DataTypes.BinaryType;
    }

    @Override
    Object compute(Object[] v) {
        byte[] data = (byte[]) v[0];
        DType from = dtype(v[1]);
        DType to = dtype(v[2]);
        if (from == to) {
            return data;
        }
        if (!FloatConversion.isTarget(to) || FloatConversion.outputDtype(from, to) != to) {
            throw TensorErrors.function(
                    "tensor_cast",
                    "a " + from + " tensor does not cast to " + to,
                    "Floats (F64, F32, F16, BF16) cast to F32, F16 or BF16");
        }
        long elements = data.length * 8L / from.bits();
        ByteBuffer out = ByteBuffer.allocate((int) to.byteSize(elements));
        FloatConversion.convert(from, to, ByteBuffer.wrap(data), out);
        return out.array();
    }

    @Override
    TensorExpression copy(Expression[] a) {
        return new TensorCast(a[0], a[1], a[2]);
    }
}
