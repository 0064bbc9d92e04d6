package io.sparktensors.spark.functions;

import io.sparktensors.errors.TensorErrors;
import io.sparktensors.format.DType;
import io.sparktensors.format.safetensors.TensorEntry;
import io.sparktensors.spark.compat.ScalaCollections;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.aggregate.ImperativeAggregate;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * {@code tensor_stack(array, dtype)}: an aggregate stacking each row's array into one tensor of shape
 * [rows, ...], struct(data, shape). Rows are stacked in the order Spark merges them (sort first and use one
 * partition when the order matters); the whole tensor is held in memory, so it is meant for groups up to a
 * few hundred MB (at most 2 GB, a binary value). Null rows are skipped; ragged rows are refused.
 */
final class TensorStack extends CatalystAggregate<TensorStack.Stack> implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private static final String NAME = "tensor_stack";
    private final Expression array;
    private final Expression dtype;
    private final int mutableOffset;
    private final int inputOffset;

    /** The rows stacked so far: their count, each row's shape, their bytes. */
    static final class Stack {
        long rows;
        long[] inner;
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    }

    TensorStack(Expression array, Expression dtype) {
        this(array, dtype, 0, 0);
    }

    private TensorStack(Expression array, Expression dtype, int mutableOffset, int inputOffset) {
        this.array = array;
        this.dtype = dtype;
        this.mutableOffset = mutableOffset;
        this.inputOffset = inputOffset;
    }

    private DType target() {
        Object v = dtype.eval(null);
        String code = v == null ? "null" : ((UTF8String) v).toString();
        DType d = DType.fromCode(code);
        if (d == null) {
            throw TensorErrors.function(NAME, "unknown dtype '" + code + "'", "Use a dtype code such as F32 or BF16");
        }
        return ArrayTensors.target(NAME, d);
    }

    @Override
    public Stack createAggregationBuffer() {
        return new Stack();
    }

    @Override
    public Stack update(Stack buffer, InternalRow input) {
        Object v = array.eval(input);
        if (v == null) {
            return buffer;
        }
        DataType type = array.dataType();
        DataType leaf = ArrayTensors.leaf(NAME, type);
        DType d = target();
        ArrayData a = (ArrayData) v;
        long[] shape = ArrayTensors.shape(a, type);
        check(buffer, shape);
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(d.byteSize(TensorEntry.elementCount(shape))))
                .order(ByteOrder.LITTLE_ENDIAN);
        ArrayTensors.encode(NAME, a, shape, 0, leaf, d, out);
        buffer.bytes.write(out.array(), 0, out.position());
        buffer.rows++;
        return buffer;
    }

    private static void check(Stack buffer, long[] shape) {
        if (buffer.inner == null) {
            buffer.inner = shape;
        } else if (!Arrays.equals(buffer.inner, shape)) {
            throw TensorErrors.function(
                    NAME,
                    "rows have different shapes: " + Arrays.toString(shape) + " and " + Arrays.toString(buffer.inner),
                    "Stack arrays of one shape");
        }
    }

    @Override
    public Stack merge(Stack buffer, Stack other) {
        if (other.rows == 0) {
            return buffer;
        }
        check(buffer, other.inner);
        buffer.bytes.writeBytes(other.bytes.toByteArray());
        buffer.rows += other.rows;
        return buffer;
    }

    @Override
    public Object eval(Stack buffer) {
        if (buffer.rows == 0) {
            return null;
        }
        long[] shape = new long[buffer.inner.length + 1];
        shape[0] = buffer.rows;
        System.arraycopy(buffer.inner, 0, shape, 1, buffer.inner.length);
        return ArrayTensors.row(buffer.bytes.toByteArray(), shape);
    }

    @Override
    public byte[] serialize(Stack s) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(s.bytes.size() + 64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeLong(s.rows);
            long[] inner = s.inner == null ? new long[0] : s.inner;
            out.writeInt(inner.length);
            for (long d : inner) {
                out.writeLong(d);
            }
            s.bytes.writeTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    @Override
    public Stack deserialize(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            Stack s = new Stack();
            s.rows = in.readLong();
            long[] inner = new long[in.readInt()];
            for (int i = 0; i < inner.length; i++) {
                inner[i] = in.readLong();
            }
            s.inner = s.rows == 0 ? null : inner;
            s.bytes.writeBytes(in.readAllBytes());
            return s;
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
        return new TensorStack(array, dtype, offset, inputOffset);
    }

    @Override
    public int inputAggBufferOffset() {
        return inputOffset;
    }

    @Override
    public ImperativeAggregate withNewInputAggBufferOffset(int offset) {
        return new TensorStack(array, dtype, mutableOffset, offset);
    }

    @Override
    public scala.collection.immutable.List<Expression> children() {
        return ScalaCollections.toScalaList(List.of(array, dtype));
    }

    @Override
    Expression withChildren(List<Expression> newChildren) {
        return new TensorStack(newChildren.get(0), newChildren.get(1), mutableOffset, inputOffset);
    }

    @Override
    public boolean nullable() {
        return true;
    }

    @Override
    public DataType dataType() {
        return ArrayTensors.TYPE;
    }

    @Override
    public String prettyName() {
        return NAME;
    }

    @Override
    public int productArity() {
        return 4;
    }

    @Override
    public Object productElement(int n) {
        return switch (n) {
            case 0 -> array;
            case 1 -> dtype;
            case 2 -> mutableOffset;
            case 3 -> inputOffset;
            default -> throw new IndexOutOfBoundsException(n);
        };
    }

    @Override
    public boolean canEqual(Object that) {
        return that instanceof TensorStack;
    }
}
