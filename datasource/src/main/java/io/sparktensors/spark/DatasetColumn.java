package io.sparktensors.spark;

import io.sparktensors.errors.DatasetErrors;
import io.sparktensors.format.DType;
import io.sparktensors.format.FloatConversion;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.function.LongConsumer;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.types.UserDefinedType;

/**
 * One column of a DataFrame stored as one tensor of a training-data file ({@code layout=dataset}): which
 * Spark types have a tensor form, their dtype, and how a row's value becomes little-endian elements and back.
 * Shared by the writer, which appends rows, and the reader, which rebuilds them; small and serializable.
 *
 * <p>Numeric and boolean scalars are one element per row; {@code array<T>} (nested to any depth, rectangular)
 * the array's elements; an ML vector ({@code VectorUDT}, recognised by name so spark-mllib is no dependency)
 * its dense values as F64; binary the row's bytes, with a shape declared by option.
 */
public final class DatasetColumn implements Serializable {
    private static final long serialVersionUID = 1L;
    /** The ML vector types, by class name: spark-mllib need not be on the class path. */
    private static final String ML_VECTOR = "org.apache.spark.ml.linalg.VectorUDT";

    private static final String MLLIB_VECTOR = "org.apache.spark.mllib.linalg.VectorUDT";

    /** How a row's value maps to elements. */
    public enum Kind {
        SCALAR,
        ARRAY,
        VECTOR,
        BINARY
    }

    private final String name;
    private final DataType type;
    private final Kind kind;
    private final int depth;
    private final DType natural;
    private final DType stored;
    private final long[] declaredShape;

    private DatasetColumn(
            String name, DataType type, Kind kind, int depth, DType natural, DType stored, long[] declaredShape) {
        this.name = name;
        this.type = type;
        this.kind = kind;
        this.depth = depth;
        this.natural = natural;
        this.stored = stored;
        this.declaredShape = declaredShape;
    }

    /**
     * The column for a field.
     *
     * @param dtype the dtype to store it as (option dtype.COL), or null for the type's own
     * @param declaredShape a binary column's per-row shape (option shape.COL), or null
     */
    public static DatasetColumn of(StructField field, DType dtype, long[] declaredShape) {
        String name = field.name();
        DataType t = field.dataType();
        Kind kind;
        int depth = 0;
        DType natural;
        if (t instanceof BinaryType) {
            if (declaredShape == null) {
                throw DatasetErrors.binaryWithoutShape(name);
            }
            DType d = dtype == null ? DType.U8 : dtype;
            return new DatasetColumn(name, t, Kind.BINARY, 0, d, d, declaredShape.clone());
        } else if (isVector(t)) {
            kind = Kind.VECTOR;
            depth = 1;
            natural = DType.F64;
        } else {
            DataType leaf = t;
            while (leaf instanceof ArrayType a) {
                leaf = a.elementType();
                depth++;
            }
            natural = naturalDtype(leaf);
            if (natural == null) {
                throw DatasetErrors.unsupportedType(name, t.simpleString());
            }
            kind = depth == 0 ? Kind.SCALAR : Kind.ARRAY;
        }
        DType s = natural;
        if (dtype != null && dtype != natural) {
            boolean floating = natural == DType.F64 || natural == DType.F32;
            if (!floating || !FloatConversion.isTarget(dtype)) {
                throw DatasetErrors.badColumnDtype(name, dtype.code(), t.simpleString());
            }
            s = dtype;
        }
        return new DatasetColumn(name, t, kind, depth, natural, s, null);
    }

    /** Whether {@code t} is Spark ML's (or MLlib's) vector type. */
    public static boolean isVector(DataType t) {
        return t instanceof UserDefinedType<?> u
                && (u.getClass().getName().equals(ML_VECTOR)
                        || u.getClass().getName().equals(MLLIB_VECTOR));
    }

    /** The dtype of a scalar Spark type, or null when it has none. */
    public static DType naturalDtype(DataType t) {
        if (t instanceof DoubleType) {
            return DType.F64;
        } else if (t instanceof FloatType) {
            return DType.F32;
        } else if (t instanceof LongType) {
            return DType.I64;
        } else if (t instanceof IntegerType) {
            return DType.I32;
        } else if (t instanceof ShortType) {
            return DType.I16;
        } else if (t instanceof ByteType) {
            return DType.I8;
        } else if (t instanceof BooleanType) {
            return DType.BOOL;
        }
        return null;
    }

    public String name() {
        return name;
    }

    public DataType type() {
        return type;
    }

    public Kind kind() {
        return kind;
    }

    /** Array nesting: 0 for scalars and binary, 1 for vectors and {@code array<T>}, 2 for arrays of arrays... */
    public int depth() {
        return depth;
    }

    /** The dtype the row values are appended in. */
    public DType natural() {
        return natural;
    }

    /** The dtype written to the file. */
    public DType stored() {
        return stored;
    }

    /** A binary column's declared per-row shape, or null. */
    public long[] declaredShape() {
        return declaredShape == null ? null : declaredShape.clone();
    }

    /** The columns of a schema, each stored in its own dtype (the reader's view before it sees the files). */
    public static DatasetColumn[] of(StructType schema) {
        DatasetColumn[] columns = new DatasetColumn[schema.fields().length];
        for (int i = 0; i < columns.length; i++) {
            columns[i] = of(schema.fields()[i], null, new long[0]);
        }
        return columns;
    }

    /** This column as it is stored in a file: the file's dtype and, for binary, the file's row shape. */
    public DatasetColumn storedAs(DType fileDtype, long[] rowShape) {
        if (kind == Kind.BINARY) {
            return new DatasetColumn(name, type, kind, depth, fileDtype, fileDtype, rowShape.clone());
        }
        return new DatasetColumn(name, type, kind, depth, natural, fileDtype, null);
    }

    // ---- writing --------------------------------------------------------------------------------------------

    /** Whether rows of this column can be ragged (arrays and vectors), so {@code ragged=pad} applies. */
    public boolean paddable() {
        return kind == Kind.ARRAY || kind == Kind.VECTOR;
    }

    /**
     * Appends row {@code ordinal} of {@code row} to {@code out} in the natural dtype, checking it has the shape
     * of the rows before it.
     *
     * @param shape the per-row shape (length {@link #depth}): filled in when {@code first}, else checked
     */
    public void append(
            InternalRow row,
            int ordinal,
            GrowableBytes out,
            long[] shape,
            long rowNumber,
            int partition,
            boolean first) {
        if (row.isNullAt(ordinal)) {
            throw DatasetErrors.nullValue(name, rowNumber, partition);
        }
        switch (kind) {
            case SCALAR -> appendScalar(row, ordinal, natural, out);
            case BINARY -> {
                byte[] b = row.getBinary(ordinal);
                long expected =
                        natural.byteSize(io.sparktensors.format.safetensors.TensorEntry.elementCount(declaredShape));
                if (b.length != expected) {
                    throw DatasetErrors.binaryLength(
                            name, rowNumber, partition, b.length, expected, declaredShape, natural.code());
                }
                out.put(b, 0, b.length);
            }
            case VECTOR -> {
                ArrayData values = vectorValues(row.getStruct(ordinal, 4));
                checkShape(shape, new long[] {values.numElements()}, rowNumber, partition, first);
                appendLeaves(values, natural, out, rowNumber, partition);
            }
            default -> {
                ArrayData a = row.getArray(ordinal);
                long[] found = new long[depth];
                measure(a, 0, found, rowNumber, partition);
                checkShape(shape, found, rowNumber, partition, first);
                appendArray(a, 0, found, rowNumber, partition, out);
            }
        }
    }

    /**
     * Appends a row of a padded ({@code ragged=pad}) array or vector column: its elements to {@code out}
     * unpadded, and its lengths to {@code lengths} in preorder (the row's length, then each element's length
     * and so on down, for nested arrays), so the writer can pad every dimension at the end of the file.
     *
     * @param max the longest length seen so far at each level (length {@link #depth}), raised as needed
     */
    public void appendRagged(
            InternalRow row,
            int ordinal,
            GrowableBytes out,
            LongConsumer lengths,
            long[] max,
            long rowNumber,
            int partition) {
        if (row.isNullAt(ordinal)) {
            throw DatasetErrors.nullValue(name, rowNumber, partition);
        }
        ArrayData a = kind == Kind.VECTOR ? vectorValues(row.getStruct(ordinal, 4)) : row.getArray(ordinal);
        appendRagged(a, 0, out, lengths, max, rowNumber, partition);
    }

    private void appendRagged(
            ArrayData a,
            int level,
            GrowableBytes out,
            LongConsumer lengths,
            long[] max,
            long rowNumber,
            int partition) {
        int n = a.numElements();
        lengths.accept(n);
        max[level] = Math.max(max[level], n);
        if (level + 1 == depth) {
            appendLeaves(a, natural, out, rowNumber, partition);
            return;
        }
        for (int i = 0; i < n; i++) {
            if (a.isNullAt(i)) {
                throw DatasetErrors.nullValue(name, rowNumber, partition);
            }
            appendRagged(a.getArray(i), level + 1, out, lengths, max, rowNumber, partition);
        }
    }

    /** An ML vector's values, dense: a sparse vector (type 0: size, indices, values) is expanded. */
    private static ArrayData vectorValues(InternalRow v) {
        ArrayData values = v.getArray(3);
        if (v.getByte(0) != 0) {
            return values;
        }
        ArrayData indices = v.getArray(2);
        double[] dense = new double[v.getInt(1)];
        for (int i = 0; i < indices.numElements(); i++) {
            dense[indices.getInt(i)] = values.getDouble(i);
        }
        return new GenericArrayData(dense);
    }

    private void checkShape(long[] shape, long[] found, long rowNumber, int partition, boolean first) {
        if (first) {
            System.arraycopy(found, 0, shape, 0, found.length);
        } else if (!Arrays.equals(shape, found)) {
            throw DatasetErrors.ragged(name, rowNumber, partition, shape, found);
        }
    }

    /** The lengths along the first element of each level (the rest is checked while appending). */
    private void measure(ArrayData a, int level, long[] found, long rowNumber, int partition) {
        found[level] = a.numElements();
        if (level + 1 < depth && a.numElements() > 0) {
            if (a.isNullAt(0)) {
                throw DatasetErrors.nullValue(name, rowNumber, partition);
            }
            measure(a.getArray(0), level + 1, found, rowNumber, partition);
        }
    }

    private void appendArray(ArrayData a, int level, long[] shape, long rowNumber, int partition, GrowableBytes out) {
        if (a.numElements() != shape[level]) {
            // shape is this row's, measured along its first elements: another element differs.
            throw DatasetErrors.notRectangular(name, rowNumber, partition, level + 1, shape[level], a.numElements());
        }
        if (level + 1 == depth) {
            appendLeaves(a, natural, out, rowNumber, partition);
            return;
        }
        for (int i = 0; i < a.numElements(); i++) {
            if (a.isNullAt(i)) {
                throw DatasetErrors.nullValue(name, rowNumber, partition);
            }
            appendArray(a.getArray(i), level + 1, shape, rowNumber, partition, out);
        }
    }

    private void appendLeaves(ArrayData a, DType d, GrowableBytes out, long rowNumber, int partition) {
        int n = a.numElements();
        for (int i = 0; i < n; i++) {
            if (a.isNullAt(i)) {
                throw DatasetErrors.nullValue(name, rowNumber, partition);
            }
        }
        switch (d) {
            case F64 -> {
                for (int i = 0; i < n; i++) out.putDouble(a.getDouble(i));
            }
            case F32 -> {
                for (int i = 0; i < n; i++) out.putFloat(a.getFloat(i));
            }
            case I64 -> {
                for (int i = 0; i < n; i++) out.putLong(a.getLong(i));
            }
            case I32 -> {
                for (int i = 0; i < n; i++) out.putInt(a.getInt(i));
            }
            case I16 -> {
                for (int i = 0; i < n; i++) out.putShort(a.getShort(i));
            }
            case I8 -> {
                for (int i = 0; i < n; i++) out.putByte(a.getByte(i));
            }
            case BOOL -> {
                for (int i = 0; i < n; i++) out.putByte(a.getBoolean(i) ? 1 : 0);
            }
            default -> throw new IllegalStateException("no element writer for " + d);
        }
    }

    private static void appendScalar(InternalRow row, int i, DType d, GrowableBytes out) {
        switch (d) {
            case F64 -> out.putDouble(row.getDouble(i));
            case F32 -> out.putFloat(row.getFloat(i));
            case I64 -> out.putLong(row.getLong(i));
            case I32 -> out.putInt(row.getInt(i));
            case I16 -> out.putShort(row.getShort(i));
            case I8 -> out.putByte(row.getByte(i));
            case BOOL -> out.putByte(row.getBoolean(i) ? 1 : 0);
            default -> throw new IllegalStateException("no element writer for " + d);
        }
    }

    // ---- reading --------------------------------------------------------------------------------------------

    /**
     * Rows' values from the stored bytes of consecutive rows.
     *
     * @param stored the stored elements of {@code rows} rows ({@code rowShape} each), little-endian
     * @param lengths for a padded column, per dimension k = 1..depth (index k-1) the lengths along dimension k
     *     of these rows, flattened as the {@code COLUMN.lengths} tensors hold them ([rows, M1, .., Mk-1]), each
     *     already checked to lie within [0, Mk]; null otherwise
     */
    public Object[] decode(ByteBuffer stored, int rows, long[] rowShape, long[][] lengths) {
        ByteBuffer data = toNatural(stored);
        int rowElements = Math.toIntExact(io.sparktensors.format.safetensors.TensorEntry.elementCount(rowShape));
        int elementBytes = natural.bits() / 8;
        Object[] values = new Object[rows];
        for (int r = 0; r < rows; r++) {
            int start = r * rowElements * elementBytes;
            values[r] = switch (kind) {
                case SCALAR -> scalar(data, start);
                case BINARY -> {
                    byte[] b = new byte[rowElements * elementBytes];
                    data.get(start, b);
                    yield b;
                }
                case VECTOR -> {
                    ArrayData v = lengths == null
                            ? leaves(data, start, rowElements)
                            : padded(data, r * rowElements, rowShape, 0, lengths, r);
                    yield new GenericInternalRow(new Object[] {(byte) 1, null, null, v});
                }
                default ->
                    lengths == null
                            ? nested(data, start, rowShape, 0)
                            : padded(data, r * rowElements, rowShape, 0, lengths, r);
            };
        }
        return values;
    }

    /**
     * One padded (sub-)array: its length from the lengths of its level, its elements (or sub-arrays) from the
     * padded block that starts at element {@code at}.
     *
     * @param index its position in the level's lengths tensor: the row for level 0, then parent * M + i
     */
    private ArrayData padded(ByteBuffer b, long at, long[] shape, int level, long[][] lengths, long index) {
        int n = (int) lengths[level][Math.toIntExact(index)];
        if (level == shape.length - 1) {
            return leaves(b, Math.toIntExact(at * (natural.bits() / 8)), n);
        }
        long inner = io.sparktensors.format.safetensors.TensorEntry.elementCount(
                Arrays.copyOfRange(shape, level + 1, shape.length));
        Object[] items = new Object[n];
        for (int i = 0; i < n; i++) {
            items[i] = padded(b, at + i * inner, shape, level + 1, lengths, index * shape[level] + i);
        }
        return new GenericArrayData(items);
    }

    private ByteBuffer toNatural(ByteBuffer stored) {
        stored.order(ByteOrder.LITTLE_ENDIAN);
        if (stored == null || this.stored == natural) {
            return stored;
        }
        int elements = stored.remaining() / (this.stored.bits() / 8);
        ByteBuffer f32 = ByteBuffer.allocate(Math.multiplyExact(elements, 4)).order(ByteOrder.LITTLE_ENDIAN);
        FloatConversion.convert(this.stored, DType.F32, stored, f32);
        f32.flip();
        if (natural == DType.F32) {
            return f32;
        }
        ByteBuffer f64 = ByteBuffer.allocate(Math.multiplyExact(elements, 8)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < elements; i++) {
            f64.putDouble(f32.getFloat());
        }
        f64.flip();
        return f64;
    }

    private Object scalar(ByteBuffer b, int at) {
        return switch (natural) {
            case F64 -> b.getDouble(at);
            case F32 -> b.getFloat(at);
            case I64 -> b.getLong(at);
            case I32 -> b.getInt(at);
            case I16 -> b.getShort(at);
            case I8 -> b.get(at);
            case BOOL -> b.get(at) != 0;
            default -> throw new IllegalStateException("no element reader for " + natural);
        };
    }

    private ArrayData nested(ByteBuffer b, int start, long[] shape, int level) {
        if (level == shape.length - 1) {
            return leaves(b, start, (int) shape[level]);
        }
        int inner = Math.toIntExact(io.sparktensors.format.safetensors.TensorEntry.elementCount(
                        Arrays.copyOfRange(shape, level + 1, shape.length)))
                * (natural.bits() / 8);
        Object[] items = new Object[(int) shape[level]];
        for (int i = 0; i < items.length; i++) {
            items[i] = nested(b, start + i * inner, shape, level + 1);
        }
        return new GenericArrayData(items);
    }

    private ArrayData leaves(ByteBuffer b, int start, int n) {
        ByteBuffer s = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        s.position(start);
        switch (natural) {
            case F64 -> {
                double[] v = new double[n];
                s.asDoubleBuffer().get(v);
                return new GenericArrayData(v);
            }
            case F32 -> {
                float[] v = new float[n];
                s.asFloatBuffer().get(v);
                return new GenericArrayData(v);
            }
            case I64 -> {
                long[] v = new long[n];
                s.asLongBuffer().get(v);
                return new GenericArrayData(v);
            }
            case I32 -> {
                int[] v = new int[n];
                s.asIntBuffer().get(v);
                return new GenericArrayData(v);
            }
            case I16 -> {
                short[] v = new short[n];
                s.asShortBuffer().get(v);
                return new GenericArrayData(v);
            }
            case I8 -> {
                byte[] v = new byte[n];
                s.get(v);
                return new GenericArrayData(v);
            }
            case BOOL -> {
                boolean[] v = new boolean[n];
                for (int i = 0; i < n; i++) {
                    v[i] = s.get() != 0;
                }
                return new GenericArrayData(v);
            }
            default -> throw new IllegalStateException("no element reader for " + natural);
        }
    }
}
