package io.sparktensors.spark.functions;

import io.sparktensors.errors.TensorErrors;
import io.sparktensors.format.DType;
import io.sparktensors.format.FloatConversion;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructType;

/**
 * A (nested, rectangular) Spark array as tensor bytes of a dtype, for {@code tensor_from_array} and
 * {@code tensor_stack}: floating dtypes take the values as doubles and round with the writer's rounding
 * ({@link FloatConversion}); integer dtypes (and BOOL) take them as longs and refuse values out of range.
 */
final class ArrayTensors {
    /** The struct both functions return: the bytes and the shape, as the tensor table's columns. */
    static final StructType TYPE = new StructType()
            .add("data", DataTypes.BinaryType, false)
            .add("shape", DataTypes.createArrayType(DataTypes.LongType, false), false);

    private ArrayTensors() {}

    /** The array's shape: nesting depth of {@code type}, lengths from the first element at each level. */
    static long[] shape(ArrayData a, DataType type) {
        int depth = 0;
        for (DataType t = type; t instanceof ArrayType at; t = at.elementType()) {
            depth++;
        }
        long[] shape = new long[depth];
        ArrayData level = a;
        for (int i = 0; i < depth; i++) {
            shape[i] = level.numElements();
            if (i + 1 < depth) {
                if (level.numElements() == 0) {
                    break;
                }
                level = level.getArray(0);
            }
        }
        return shape;
    }

    /** Checks a type is an array of numbers or booleans (nested to any depth), naming the function otherwise. */
    static DataType leaf(String function, DataType type) {
        DataType t = type;
        while (t instanceof ArrayType at) {
            t = at.elementType();
        }
        if (!(type instanceof ArrayType)
                || !(t instanceof NumericType || t instanceof BooleanType)
                || t instanceof DecimalType) {
            throw TensorErrors.function(
                    function,
                    "its first argument must be an array of numbers or booleans, not " + type.simpleString(),
                    "Cast it, e.g. cast(x as array<float>)");
        }
        return t;
    }

    /** Appends the array's elements, in row-major order, as {@code dtype} to {@code out}. */
    static void encode(
            String function, ArrayData a, long[] shape, int level, DataType leaf, DType dtype, ByteBuffer out) {
        if (a.numElements() != shape[level]) {
            long[] found = shape.clone();
            found[level] = a.numElements();
            throw TensorErrors.function(
                    function,
                    "the array is ragged: lengths " + Arrays.toString(found) + " after " + Arrays.toString(shape),
                    "Use arrays of one length at each level");
        }
        for (int i = 0; i < a.numElements(); i++) {
            if (a.isNullAt(i)) {
                throw TensorErrors.function(function, "the array holds a null", "Fill or filter nulls first");
            }
            if (level + 1 < shape.length) {
                encode(function, a.getArray(i), shape, level + 1, leaf, dtype, out);
            } else {
                put(function, a, i, leaf, dtype, out);
            }
        }
    }

    private static void put(String function, ArrayData a, int i, DataType leaf, DType dtype, ByteBuffer out) {
        switch (dtype) {
            case F64 -> out.putDouble(number(a, i, leaf));
            case F32 -> {
                ByteBuffer one =
                        ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(0, number(a, i, leaf));
                FloatConversion.convert(DType.F64, DType.F32, one, out);
            }
            case F16, BF16 -> {
                ByteBuffer one =
                        ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(0, number(a, i, leaf));
                FloatConversion.convert(DType.F64, dtype, one, out);
            }
            case I64 -> out.putLong(integer(function, a, i, leaf, Long.MIN_VALUE, Long.MAX_VALUE));
            case I32 -> out.putInt((int) integer(function, a, i, leaf, Integer.MIN_VALUE, Integer.MAX_VALUE));
            case I16 -> out.putShort((short) integer(function, a, i, leaf, Short.MIN_VALUE, Short.MAX_VALUE));
            case I8 -> out.put((byte) integer(function, a, i, leaf, Byte.MIN_VALUE, Byte.MAX_VALUE));
            case U8 -> out.put((byte) integer(function, a, i, leaf, 0, 255));
            case BOOL -> out.put((byte) (integer(function, a, i, leaf, 0, 1)));
            default ->
                throw TensorErrors.function(
                        function,
                        "the dtype " + dtype + " is not supported",
                        "Use F64, F32, F16, BF16, I64, I32, I16, I8, U8 or BOOL");
        }
    }

    /** Checks a dtype is one the functions write. */
    static DType target(String function, DType d) {
        if (d == DType.F64
                || d == DType.F32
                || d == DType.F16
                || d == DType.BF16
                || d == DType.I64
                || d == DType.I32
                || d == DType.I16
                || d == DType.I8
                || d == DType.U8
                || d == DType.BOOL) {
            return d;
        }
        throw TensorErrors.function(
                function,
                "the dtype " + d + " is not supported",
                "Use F64, F32, F16, BF16, I64, I32, I16, I8, U8 or BOOL");
    }

    private static double number(ArrayData a, int i, DataType leaf) {
        if (leaf instanceof DoubleType) {
            return a.getDouble(i);
        } else if (leaf instanceof FloatType) {
            return a.getFloat(i);
        } else if (leaf instanceof BooleanType) {
            return a.getBoolean(i) ? 1 : 0;
        }
        return longValue(a, i, leaf);
    }

    private static long integer(String function, ArrayData a, int i, DataType leaf, long min, long max) {
        long v;
        if (leaf instanceof DoubleType || leaf instanceof FloatType) {
            double d = number(a, i, leaf);
            if (d != Math.rint(d) || d < min || d > max) {
                throw TensorErrors.function(
                        function,
                        "the value " + d + " is not a whole number in [" + min + ", " + max + "]",
                        "Round it first, or use a floating dtype");
            }
            v = (long) d;
        } else {
            v = leaf instanceof BooleanType ? (a.getBoolean(i) ? 1 : 0) : longValue(a, i, leaf);
        }
        if (v < min || v > max) {
            throw TensorErrors.function(
                    function, "the value " + v + " is out of range [" + min + ", " + max + "]", "Use a wider dtype");
        }
        return v;
    }

    private static long longValue(ArrayData a, int i, DataType leaf) {
        return switch (leaf.typeName()) {
            case "long" -> a.getLong(i);
            case "integer" -> a.getInt(i);
            case "short" -> a.getShort(i);
            case "byte" -> a.getByte(i);
            default -> throw new IllegalStateException("not an integer type: " + leaf);
        };
    }

    static GenericInternalRow row(byte[] data, long[] shape) {
        return new GenericInternalRow(new Object[] {data, new GenericArrayData(shape)});
    }
}
