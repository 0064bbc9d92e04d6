package io.sparktensors.spark.functions;

import io.sparktensors.analysis.TensorStats;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;

/** {@code tensor_stats(data, dtype)}: the statistics of a tensor or chunk, see {@link TensorStats}. */
final class TensorStatsExpression extends TensorExpression {
    /** The struct every stats function returns; mean and m2 let chunks merge exactly. */
    static final StructType TYPE = io.sparktensors.spark.ComputedColumns.STATS_TYPE;

    TensorStatsExpression(Expression data, Expression dtype) {
        super(data, dtype);
    }

    @Override
    String name() {
        return "tensor_stats";
    }

    @Override
    public DataType dataType() {
        return TYPE;
    }

    @Override
    Object compute(Object[] v) {
        return toRow(TensorStats.of((byte[]) v[0], dtype(v[1])));
    }

    static InternalRow toRow(TensorStats s) {
        return new GenericInternalRow(new Object[] {
            s.count(),
            s.nans(),
            s.infs(),
            s.zeros(),
            s.min(),
            s.max(),
            s.mean(),
            s.std(),
            s.l2(),
            s.m2(),
            s.sumSquares()
        });
    }

    static TensorStats fromRow(InternalRow r) {
        return new TensorStats(
                r.getLong(0),
                r.getLong(1),
                r.getLong(2),
                r.getLong(3),
                r.getDouble(4),
                r.getDouble(5),
                r.getDouble(6),
                r.getDouble(9),
                r.getDouble(10));
    }

    @Override
    TensorExpression copy(Expression[] a) {
        return new TensorStatsExpression(a[0], a[1]);
    }
}
