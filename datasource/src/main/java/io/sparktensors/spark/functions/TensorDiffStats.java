package io.sparktensors.spark.functions;

import io.sparktensors.analysis.TensorDiff;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** {@code tensor_diff_stats(a, b, dtype)}: how two tensors or chunks differ, see {@link TensorDiff}. */
final class TensorDiffStats extends TensorExpression {
    static final StructType TYPE = new StructType()
            .add("count", DataTypes.LongType, false)
            .add("differing", DataTypes.LongType, false)
            .add("max_abs", DataTypes.DoubleType, false)
            .add("max_rel", DataTypes.DoubleType, false)
            .add("mse", DataTypes.DoubleType, false)
            .add("non_finite", DataTypes.LongType, false);

    TensorDiffStats(Expression a, Expression b, Expression dtype) {
        super(a, b, dtype);
    }

    @Override
    String name() {
        return "tensor_diff_stats";
    }

    @Override
    public DataType dataType() {
        return TYPE;
    }

    @Override
    Object compute(Object[] v) {
        TensorDiff d = TensorDiff.of((byte[]) v[0], (byte[]) v[1], dtype(v[2]));
        return new GenericInternalRow(
                new Object[] {d.count(), d.differing(), d.maxAbs(), d.maxRel(), d.mse(), d.nonFinite()});
    }

    @Override
    TensorExpression copy(Expression[] a) {
        return new TensorDiffStats(a[0], a[1], a[2]);
    }
}
