package io.sparktensors.spark.read;

import io.sparktensors.analysis.TensorStats;
import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.DType;
import io.sparktensors.spark.ComputedColumns;
import io.sparktensors.spark.TensorColumns;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.apache.arrow.vector.BaseVariableWidthVector;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Decimal;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.vectorized.ArrowColumnVector;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarArray;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.apache.spark.sql.vectorized.ColumnarMap;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * The computed columns of a reader's batches ({@link ComputedColumns}): the reader fills its Arrow vectors
 * with {@code dtype} and {@code data} as for any read, and this class hands Spark a batch of the requested
 * columns only, in which {@code _stats} and {@code _sha256} are computed from the Arrow data buffer in place.
 * They are computed lazily, row by row, when Spark first reads them: a row a filter drops is never
 * summarised, so the functions run on exactly the rows they ran on before (and fail on exactly those), and
 * the bytes never become a Spark value.
 */
final class ComputedVectors {
    private final Rows rows = new Rows();
    /** Per requested column: its index in the read batch, or -1 for a computed column. */
    private final int[] readIndex;
    /** Per requested column: the computed vector, or null. */
    private final ColumnVector[] computed;

    private final int dataIndex;
    private final int dtypeIndex;

    private ComputedVectors(StructType required) {
        StructType read = vectorSchema(required);
        this.readIndex = new int[required.fields().length];
        this.computed = new ColumnVector[readIndex.length];
        for (int i = 0; i < readIndex.length; i++) {
            StructField f = required.fields()[i];
            if (ComputedColumns.STATS.equals(f.name())) {
                computed[i] = new StatsVector((StructType) f.dataType(), rows);
                readIndex[i] = -1;
            } else if (ComputedColumns.SHA256.equals(f.name())) {
                computed[i] = new Sha256Vector(rows);
                readIndex[i] = -1;
            } else {
                readIndex[i] = read.fieldIndex(f.name());
            }
        }
        this.dataIndex = read.fieldIndex(TensorColumns.DATA);
        this.dtypeIndex = read.fieldIndex(TensorColumns.DTYPE);
    }

    /** Whether {@code schema} asks for a computed column. */
    static boolean computes(StructType schema) {
        return Arrays.stream(schema.fieldNames()).anyMatch(ComputedColumns::isComputed);
    }

    /** The computed columns of {@code required}, or null when it asks for none. */
    static ComputedVectors of(StructType required) {
        return computes(required) ? new ComputedVectors(required) : null;
    }

    /**
     * The columns the reader's vectors hold: the requested table columns, and when a computed column is
     * requested also {@code dtype} and {@code data}, which it is computed from.
     */
    static StructType vectorSchema(StructType required) {
        if (!computes(required)) {
            return required;
        }
        List<StructField> fields = new ArrayList<>();
        for (StructField f : required.fields()) {
            if (!ComputedColumns.isComputed(f.name())) {
                fields.add(f);
            }
        }
        for (String needed : List.of(TensorColumns.DTYPE, TensorColumns.DATA)) {
            if (fields.stream().noneMatch(f -> f.name().equals(needed))) {
                fields.add(TensorColumns.SCHEMA.fields()[TensorColumns.SCHEMA.fieldIndex(needed)]);
            }
        }
        return new StructType(fields.toArray(new StructField[0]));
    }

    /**
     * The batch Spark sees: the requested columns of {@code read}, and the computed ones over its rows;
     * {@code mappedFile} is the file whose mapped pages hold its data, or null.
     */
    ColumnarBatch project(ColumnarBatch read, String mappedFile) {
        rows.reset(read.column(dataIndex), read.column(dtypeIndex), read.numRows(), mappedFile);
        ColumnVector[] columns = new ColumnVector[readIndex.length];
        for (int i = 0; i < columns.length; i++) {
            columns[i] = readIndex[i] >= 0 ? read.column(readIndex[i]) : computed[i];
        }
        return new ColumnarBatch(columns, read.numRows());
    }

    /** The current batch's bytes and dtypes, row by row. */
    private static final class Rows {
        private ColumnVector data;
        private ColumnVector dtype;
        /** The file whose mapped pages are the batch's data, or null when it was read into Arrow memory. */
        private String mappedFile;

        private int count;
        /** Bumped per batch, so the vectors know their cached rows are stale. */
        private int batch;

        void reset(ColumnVector data, ColumnVector dtype, int count, String mappedFile) {
            this.data = data;
            this.mappedFile = mappedFile;
            this.dtype = dtype;
            this.count = count;
            this.batch++;
        }

        /** Row {@code row}'s bytes: a view of the Arrow data buffer (or of the file's pages it maps), not a copy. */
        ByteBuffer bytes(int row) {
            if (data instanceof ArrowColumnVector arrow
                    && arrow.getValueVector() instanceof BaseVariableWidthVector v) {
                int start = v.getStartOffset(row);
                return v.getDataBuffer().nioBuffer(start, v.getEndOffset(row) - start);
            }
            return ByteBuffer.wrap(data.getBinary(row));
        }

        /**
         * The error for a fault reading the batch's mapped pages (the JVM's InternalError for a page that is gone:
         * the file was truncated while it was read); anything else is rethrown.
         */
        RuntimeException changed(InternalError e) {
            if (mappedFile == null) {
                throw e;
            }
            return new UncheckedIOException(MalformedTensorFileException.changedWhileRead(mappedFile, null, e));
        }

        DType dtype(int row) {
            String code = dtype.getUTF8String(row).toString();
            DType d = DType.fromCode(code);
            if (d == null) {
                throw new IllegalStateException("The scan read an unknown dtype '" + code + "'");
            }
            return d;
        }
    }

    /** A column of values computed per row on first read, and kept for the batch. */
    private abstract static class LazyVector<T> extends ColumnVector {
        final Rows rows;
        private Object[] values = new Object[0];
        private int batch = -1;

        LazyVector(DataType type, Rows rows) {
            super(type);
            this.rows = rows;
        }

        abstract T compute(int row);

        @SuppressWarnings("unchecked")
        final T value(int row) {
            if (batch != rows.batch) {
                if (values.length < rows.count) {
                    values = new Object[rows.count];
                } else {
                    Arrays.fill(values, null);
                }
                batch = rows.batch;
            }
            Object v = values[row];
            if (v == null) {
                v = compute(row);
                values[row] = v;
            }
            return (T) v;
        }

        @Override
        public void close() {
            values = new Object[0];
        }

        @Override
        public boolean hasNull() {
            return false;
        }

        @Override
        public int numNulls() {
            return 0;
        }

        @Override
        public boolean isNullAt(int rowId) {
            return false;
        }

        @Override
        public boolean getBoolean(int rowId) {
            throw unsupported();
        }

        @Override
        public byte getByte(int rowId) {
            throw unsupported();
        }

        @Override
        public short getShort(int rowId) {
            throw unsupported();
        }

        @Override
        public int getInt(int rowId) {
            throw unsupported();
        }

        @Override
        public long getLong(int rowId) {
            throw unsupported();
        }

        @Override
        public float getFloat(int rowId) {
            throw unsupported();
        }

        @Override
        public double getDouble(int rowId) {
            throw unsupported();
        }

        @Override
        public ColumnarArray getArray(int rowId) {
            throw unsupported();
        }

        @Override
        public ColumnarMap getMap(int rowId) {
            throw unsupported();
        }

        @Override
        public Decimal getDecimal(int rowId, int precision, int scale) {
            throw unsupported();
        }

        @Override
        public UTF8String getUTF8String(int rowId) {
            throw unsupported();
        }

        @Override
        public byte[] getBinary(int rowId) {
            throw unsupported();
        }

        @Override
        public ColumnVector getChild(int ordinal) {
            throw unsupported();
        }

        private UnsupportedOperationException unsupported() {
            return new UnsupportedOperationException("Cannot read a computed column of type " + dataType() + " so");
        }
    }

    /** {@code _stats}: a struct of the requested fields (Spark may prune it to those a query uses). */
    private static final class StatsVector extends LazyVector<TensorStats> {
        private final ColumnVector[] children;

        StatsVector(StructType type, Rows rows) {
            super(type, rows);
            this.children = new ColumnVector[type.fields().length];
            for (int i = 0; i < children.length; i++) {
                children[i] = new StatsField(type.fields()[i], this);
            }
        }

        @Override
        TensorStats compute(int row) {
            try {
                return TensorStats.of(rows.bytes(row), rows.dtype(row));
            } catch (InternalError e) {
                throw rows.changed(e);
            }
        }

        @Override
        public ColumnVector getChild(int ordinal) {
            return children[ordinal];
        }
    }

    /** One field of {@code _stats}, read from its parent's statistics of the row. */
    private static final class StatsField extends LazyVector<Object> {
        private final StatsVector parent;
        private final String name;

        StatsField(StructField field, StatsVector parent) {
            super(field.dataType(), parent.rows);
            this.parent = parent;
            this.name = field.name();
        }

        @Override
        Object compute(int row) {
            throw new IllegalStateException("a field is read through its parent");
        }

        @Override
        public long getLong(int rowId) {
            TensorStats s = parent.value(rowId);
            return switch (name) {
                case "count" -> s.count();
                case "nans" -> s.nans();
                case "infs" -> s.infs();
                case "zeros" -> s.zeros();
                default -> throw new IllegalStateException("no long field " + name);
            };
        }

        @Override
        public double getDouble(int rowId) {
            TensorStats s = parent.value(rowId);
            return switch (name) {
                case "min" -> s.min();
                case "max" -> s.max();
                case "mean" -> s.mean();
                case "std" -> s.std();
                case "l2" -> s.l2();
                case "m2" -> s.m2();
                case "sum_squares" -> s.sumSquares();
                default -> throw new IllegalStateException("no double field " + name);
            };
        }
    }

    /** {@code _sha256}: lower-case hex, as {@code sha2(data, 256)}. */
    private static final class Sha256Vector extends LazyVector<UTF8String> {
        private final MessageDigest digest;

        Sha256Vector(Rows rows) {
            super(DataTypes.StringType, rows);
            try {
                this.digest = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("This JVM has no SHA-256", e);
            }
        }

        @Override
        UTF8String compute(int row) {
            try {
                digest.update(rows.bytes(row));
            } catch (InternalError e) {
                digest.reset();
                throw rows.changed(e);
            }
            return UTF8String.fromString(HexFormat.of().formatHex(digest.digest()));
        }

        @Override
        public UTF8String getUTF8String(int rowId) {
            return value(rowId);
        }
    }
}
