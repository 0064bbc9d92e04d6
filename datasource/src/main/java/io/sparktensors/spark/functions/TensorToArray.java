package io.sparktensors.spark.functions;

import io.sparktensors.analysis.TensorValues;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/**
 * {@code tensor_to_array(data, dtype)}: the values as {@code array<float>} (BF16, F16 and F8 decoded
 * exactly; C64 as real, imaginary pairs). The array is built from a primitive array, with no boxing.
 */
final class TensorToArray extends TensorExpression {

    TensorToArray(Expression data, Expression dtype) {
        super(data, dtype);
    }

    @Override
    String name() {
        return "tensor_to_array";
    }

    @Override
    public DataType dataType() {
        return DataTypes.createArrayType(DataTypes.FloatType, false);
    }

    @Override
    Object compute(Object[] v) {
        return UnsafeArrayData.fromPrimitiveArray(TensorValues.toFloats((byte[]) v[0], dtype(v[1])));
    }

    @Override
    TensorExpression copy(Expression[] a) {
        return new TensorToArray(a[0], a[1]);
    }

    /**
     * {@code tensor_to_double_array(data, dtype)}: the values as {@code array<double>}, exact for every dtype but
     * 64-bit integers beyond 2^53.
     */
    static final class Doubles extends TensorExpression {

        Doubles(Expression data, Expression dtype) {
            super(data, dtype);
        }

        @Override
        String name() {
            return "tensor_to_double_array";
        }

        @Override
        public DataType dataType() {
            return DataTypes.createArrayType(DataTypes.DoubleType, false);
        }

        @Override
        Object compute(Object[] v) {
            return UnsafeArrayData.fromPrimitiveArray(TensorValues.toDoubles((byte[]) v[0], dtype(v[1])));
        }

        @Override
        TensorExpression copy(Expression[] a) {
            return new Doubles(a[0], a[1]);
        }
    }
}
