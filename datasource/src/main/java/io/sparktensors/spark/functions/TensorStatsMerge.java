package io.sparktensors.spark.functions;

import io.sparktensors.analysis.TensorStats;
import io.sparktensors.spark.compat.ScalaCollections;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.aggregate.ImperativeAggregate;
import org.apache.spark.sql.types.DataType;

/**
 * {@code tensor_stats_merge(stats)}: an aggregate that merges {@code tensor_stats} of chunks into the
 * statistics of whole tensors, exactly (parallel variance merge), in any order:
 * {@code SELECT name, tensor_stats_merge(tensor_stats(data, dtype)) FROM t GROUP BY name}.
 */
final class TensorStatsMerge extends CatalystAggregate<TensorStats> implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final Expression child;
    private final int mutableOffset;
    private final int inputOffset;

    TensorStatsMerge(Expression child) {
        this(child, 0, 0);
    }

    private TensorStatsMerge(Expression child, int mutableOffset, int inputOffset) {
        this.child = child;
        this.mutableOffset = mutableOffset;
        this.inputOffset = inputOffset;
    }

    @Override
    public TensorStats createAggregationBuffer() {
        return TensorStats.EMPTY;
    }

    @Override
    public TensorStats update(TensorStats buffer, InternalRow input) {
        Object v = child.eval(input);
        return v == null ? buffer : buffer.merge(TensorStatsExpression.fromRow((InternalRow) v));
    }

    @Override
    public TensorStats merge(TensorStats buffer, TensorStats other) {
        return buffer.merge(other);
    }

    @Override
    public Object eval(TensorStats buffer) {
        return buffer.count() == 0 ? null : TensorStatsExpression.toRow(buffer);
    }

    @Override
    public byte[] serialize(TensorStats s) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(72);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeLong(s.count());
            out.writeLong(s.nans());
            out.writeLong(s.infs());
            out.writeLong(s.zeros());
            out.writeDouble(s.min());
            out.writeDouble(s.max());
            out.writeDouble(s.mean());
            out.writeDouble(s.m2());
            out.writeDouble(s.sumSquares());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    @Override
    public TensorStats deserialize(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            return new TensorStats(
                    in.readLong(),
                    in.readLong(),
                    in.readLong(),
                    in.readLong(),
                    in.readDouble(),
                    in.readDouble(),
                    in.readDouble(),
                    in.readDouble(),
                    in.readDouble());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public int mutableAggBufferOffset() {
        return mutableOffset;
    }

    @Override
    public ImperativeAggregate withNewMutableAggBufferOffset(int offset) {
        return new TensorStatsMerge(child, offset, inputOffset);
    }

    @Override
    public int inputAggBufferOffset() {
        return inputOffset;
    }

    @Override
    public ImperativeAggregate withNewInputAggBufferOffset(int offset) {
        return new TensorStatsMerge(child, mutableOffset, offset);
    }

    @Override
    public scala.collection.immutable.List<Expression> children() {
        return ScalaCollections.toScalaList(List.of(child));
    }

    @Override
    Expression withChildren(List<Expression> newChildren) {
        return new TensorStatsMerge(newChildren.get(0), mutableOffset, inputOffset);
    }

    @Override
    public boolean nullable() {
        return true;
    }

    @Override
    public DataType dataType() {
        return TensorStatsExpression.TYPE;
    }

    @Override
    public String prettyName() {
        return "tensor_stats_merge";
    }

    @Override
    public int productArity() {
        return 3;
    }

    @Override
    public Object productElement(int n) {
        return switch (n) {
            case 0 -> child;
            case 1 -> mutableOffset;
            case 2 -> inputOffset;
            default -> throw new IndexOutOfBoundsException(n);
        };
    }

    @Override
    public boolean canEqual(Object that) {
        return that instanceof TensorStatsMerge;
    }
}
