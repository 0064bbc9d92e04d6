package io.sparktensors.spark.read;

import io.sparktensors.checkpoint.ShardFile;
import io.sparktensors.checkpoint.TensorChunk;
import io.sparktensors.io.MappedBytes;
import io.sparktensors.spark.TensorColumns;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.ForeignAllocation;
import org.apache.arrow.memory.util.MemoryUtil;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVectorHelper;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.MapVector;
import org.apache.arrow.vector.complex.StructVector;
import org.apache.arrow.vector.ipc.message.ArrowFieldNode;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.vectorized.ArrowColumnVector;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;

/**
 * The Arrow vectors of a reader's batches, for the requested columns only. Each batch: {@link #start},
 * {@link #setRow} and {@link #dataTarget} for every row, then {@link #finish}. The vectors and their buffers
 * are reused from batch to batch (as Spark's Parquet reader reuses its batch), so a reader touches fresh
 * memory only when a batch outgrows the last; they are freed by {@link #close}.
 */
final class TensorVectors implements AutoCloseable {
    private final List<FieldVector> vectors = new ArrayList<>();
    /** Each vector's column name, resolved once rather than per row. */
    private final List<String> columns = new ArrayList<>();

    private final VarBinaryVector data;
    private long[] dataStarts = new long[0];
    private final BufferAllocator allocator;
    /** The file the current batch's data column maps (its bytes are that file's pages), or null. */
    private String mappedFile;

    TensorVectors(StructType schema, BufferAllocator allocator) {
        VarBinaryVector dataVector = null;
        for (StructField f : schema.fields()) {
            FieldVector v = arrowField(f.name()).createVector(allocator);
            vectors.add(v);
            columns.add(f.name());
            if (v instanceof VarBinaryVector b) {
                dataVector = b;
            }
        }
        this.data = dataVector;
        this.allocator = allocator;
    }

    boolean readsData() {
        return data != null;
    }

    /** Starts a batch of {@code rows} rows; {@code dataLengths} are the data column's value lengths. */
    void start(int rows, int[] dataLengths) {
        if (mappedFile != null) {
            data.clear(); // unmaps the last batch's pages: Spark has released that batch
            mappedFile = null;
        }
        for (FieldVector v : vectors) {
            if (v == data) {
                startData(rows, dataLengths);
            } else {
                v.reset();
            }
        }
    }

    /** Lays out the data column's offsets up front, so each row's bytes can be read straight into place. */
    private void startData(int rows, int[] dataLengths) {
        long total = 0;
        for (int i = 0; i < rows; i++) {
            total += dataLengths[i];
        }
        if (data.getDataBuffer().capacity() < total || data.getValueCapacity() < rows) {
            data.clear();
            data.allocateNew(Math.max(total, 1), rows);
        }
        if (dataStarts.length < rows) {
            dataStarts = new long[rows];
        }
        data.getOffsetBuffer().setInt(0, 0);
        long start = 0;
        for (int i = 0; i < rows; i++) {
            dataStarts[i] = start;
            start += dataLengths[i];
            data.getOffsetBuffer().setInt((long) (i + 1) * Integer.BYTES, (int) start);
            BitVectorHelper.setBit(data.getValidityBuffer(), i);
        }
    }

    /** Writes every column but {@code data} for one row. */
    void setRow(int row, ShardFile file, byte[] fileBytes, TensorChunk c) {
        for (int col = 0; col < vectors.size(); col++) {
            FieldVector v = vectors.get(col);
            switch (columns.get(col)) {
                case TensorColumns.NAME ->
                    ((VarCharVector) v).setSafe(row, c.name().getBytes(StandardCharsets.UTF_8));
                case TensorColumns.DTYPE ->
                    ((VarCharVector) v).setSafe(row, c.dtype().code().getBytes(StandardCharsets.UTF_8));
                case TensorColumns.SHAPE -> setShape((ListVector) v, row, c);
                case TensorColumns.CHUNK -> ((IntVector) v).setSafe(row, c.chunk());
                case TensorColumns.CHUNK_COUNT -> ((IntVector) v).setSafe(row, c.chunkCount());
                case TensorColumns.CHUNK_START -> ((BigIntVector) v).setSafe(row, c.chunkStart());
                case TensorColumns.FILE -> ((VarCharVector) v).setSafe(row, fileBytes);
                case TensorColumns.DATA_OFFSET -> ((BigIntVector) v).setSafe(row, c.offset());
                case TensorColumns.FILE_METADATA -> setMetadata((MapVector) v, row, file.metadata());
                default -> {} // data: written by the reader through dataTarget()
            }
        }
    }

    /** Where row {@code row}'s data bytes go: a window of the Arrow data buffer. */
    ByteBuffer dataTarget(int row, int length) {
        return data.getDataBuffer().nioBuffer(dataStarts[row], length);
    }

    /**
     * Starts a batch of {@code rows} rows whose data column is {@code region} itself: the rows' bytes back to
     * back, mapped from {@code file}, never copied. The data vector owns the mapping and unmaps it when the next
     * batch starts or the vectors close.
     */
    void startMapped(int rows, int[] dataLengths, ByteBuffer region, String file) {
        for (FieldVector v : vectors) {
            if (v != data) {
                v.reset();
            }
        }
        data.clear();
        ArrowBuf bytes = null;
        ArrowBuf validity = null;
        ArrowBuf offsets = null;
        try {
            bytes = allocator.wrapForeignAllocation(new MappedRegion(region));
            validity = allocator.buffer((rows + 7) / 8);
            offsets = allocator.buffer((long) (rows + 1) * Integer.BYTES);
            validity.setOne(0, validity.capacity());
            int start = 0;
            offsets.setInt(0, 0);
            for (int i = 0; i < rows; i++) {
                start += dataLengths[i];
                offsets.setInt((long) (i + 1) * Integer.BYTES, start);
            }
            data.loadFieldBuffers(new ArrowFieldNode(rows, 0), List.of(validity, offsets, bytes));
        } finally {
            // The vector holds its own references now; on a failure these were the last ones (unmapping).
            for (ArrowBuf b : new ArrowBuf[] {validity, offsets, bytes}) {
                if (b != null) {
                    b.close();
                }
            }
            if (bytes == null) {
                MappedBytes.release(region);
            }
        }
        mappedFile = file;
    }

    /** The file whose mapped pages are the current batch's data column, or null when it was read. */
    String mappedFile() {
        return mappedFile;
    }

    /** A file mapping as Arrow memory, unmapped when Arrow releases it. */
    private static final class MappedRegion extends ForeignAllocation {
        private final ByteBuffer region;

        MappedRegion(ByteBuffer region) {
            super(region.capacity(), MemoryUtil.getByteBufferAddress(region));
            this.region = region;
        }

        @Override
        protected void release0() {
            MappedBytes.release(region);
        }
    }

    ColumnarBatch finish(int rows) {
        ColumnVector[] columns = new ColumnVector[vectors.size()];
        for (int i = 0; i < columns.length; i++) {
            FieldVector v = vectors.get(i);
            if (v == data) {
                data.setLastSet(rows - 1);
            }
            v.setValueCount(rows);
            columns[i] = new ArrowColumnVector(v);
        }
        return new ColumnarBatch(columns, rows);
    }

    private static void setShape(ListVector list, int row, TensorChunk c) {
        int start = list.startNewValue(row);
        BigIntVector dims = (BigIntVector) list.getDataVector();
        for (int i = 0; i < c.rank(); i++) {
            dims.setSafe(start + i, c.dim(i));
        }
        dims.setValueCount(start + c.rank());
        list.endValue(row, c.rank());
    }

    private static void setMetadata(MapVector map, int row, Map<String, String> metadata) {
        int start = map.startNewValue(row);
        StructVector entries = (StructVector) map.getDataVector();
        VarCharVector keys = (VarCharVector) entries.getChild(MapVector.KEY_NAME);
        VarCharVector values = (VarCharVector) entries.getChild(MapVector.VALUE_NAME);
        int i = start;
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            entries.setIndexDefined(i);
            keys.setSafe(i, e.getKey().getBytes(StandardCharsets.UTF_8));
            values.setSafe(i, e.getValue().getBytes(StandardCharsets.UTF_8));
            i++;
        }
        entries.setValueCount(i);
        keys.setValueCount(i);
        values.setValueCount(i);
        map.endValue(row, metadata.size());
    }

    private static Field arrowField(String column) {
        FieldType utf8 = FieldType.notNullable(ArrowType.Utf8.INSTANCE);
        FieldType int64 = FieldType.notNullable(new ArrowType.Int(64, true));
        FieldType int32 = FieldType.notNullable(new ArrowType.Int(32, true));
        return switch (column) {
            case TensorColumns.NAME, TensorColumns.DTYPE, TensorColumns.FILE -> new Field(column, utf8, null);
            case TensorColumns.SHAPE ->
                new Field(
                        column,
                        FieldType.notNullable(ArrowType.List.INSTANCE),
                        List.of(new Field("element", int64, null)));
            case TensorColumns.CHUNK, TensorColumns.CHUNK_COUNT -> new Field(column, int32, null);
            case TensorColumns.CHUNK_START, TensorColumns.DATA_OFFSET -> new Field(column, int64, null);
            case TensorColumns.DATA -> new Field(column, FieldType.notNullable(ArrowType.Binary.INSTANCE), null);
            case TensorColumns.FILE_METADATA ->
                new Field(
                        column,
                        FieldType.notNullable(new ArrowType.Map(false)),
                        List.of(new Field(
                                MapVector.DATA_VECTOR_NAME,
                                FieldType.notNullable(ArrowType.Struct.INSTANCE),
                                List.of(
                                        new Field(MapVector.KEY_NAME, utf8, null),
                                        new Field(MapVector.VALUE_NAME, utf8, null)))));
            default -> throw new IllegalArgumentException("unknown column " + column);
        };
    }

    @Override
    public void close() {
        for (FieldVector v : vectors) {
            v.close();
        }
        vectors.clear();
    }
}
