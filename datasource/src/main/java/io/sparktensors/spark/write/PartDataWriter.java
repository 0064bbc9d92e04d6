package io.sparktensors.spark.write;

import io.sparktensors.io.OutputFiles;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.connector.write.DataWriter;
import org.apache.spark.sql.connector.write.WriterCommitMessage;
import org.apache.spark.unsafe.Platform;

/**
 * The first stage of a checkpoint write: appends each row's data, as it arrives, to one part file in this
 * attempt's staging folder, and records where it went. Holds one row at a time, so memory is bounded by the
 * chunk size. Input columns: name, dtype, shape, chunk, chunk_count, data.
 */
final class PartDataWriter implements DataWriter<InternalRow> {
    private final PartWriterFactory factory;
    private final Path part;
    private final List<PartCommitMessage.ChunkRecord> chunks = new ArrayList<>();
    private OutputStream out;
    private long written;

    PartDataWriter(PartWriterFactory factory, int partitionId, long taskId) {
        this.factory = factory;
        this.part = new Path(factory.committer().attemptDir("part-" + partitionId + "-" + taskId), "part.bin");
    }

    @Override
    public void write(InternalRow row) throws IOException {
        if (out == null) {
            out = new BufferedOutputStream(
                    OutputFiles.create(part, factory.hadoopConf().get()), 1 << 20);
        }
        long length = row.isNullAt(5) ? -1 : writeData(row);
        long[] shape = null;
        if (!row.isNullAt(2)) {
            ArrayData dims = row.getArray(2);
            shape = new long[dims.numElements()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = dims.isNullAt(i) ? -1 : dims.getLong(i);
            }
        }
        chunks.add(new PartCommitMessage.ChunkRecord(
                row.isNullAt(0) ? null : row.getUTF8String(0).toString(),
                row.isNullAt(1) ? null : row.getUTF8String(1).toString(),
                shape,
                row.isNullAt(3) ? -1 : row.getInt(3),
                row.isNullAt(4) ? -1 : row.getInt(4),
                written,
                length));
        written += Math.max(length, 0);
    }

    /**
     * Writes the data column and returns its length. An on-heap UnsafeRow (what Spark hands writers) is
     * written from its own bytes, sparing a copy of every chunk; any other row through getBinary.
     */
    private long writeData(InternalRow row) throws IOException {
        if (row instanceof UnsafeRow unsafe && unsafe.getBaseObject() instanceof byte[] bytes) {
            long offsetAndSize = unsafe.getLong(5); // a variable-length field's slot: offset << 32 | size
            int size = (int) offsetAndSize;
            long start = unsafe.getBaseOffset() - Platform.BYTE_ARRAY_OFFSET + (offsetAndSize >>> 32);
            out.write(bytes, Math.toIntExact(start), size);
            return size;
        }
        byte[] data = row.getBinary(5);
        out.write(data);
        return data.length;
    }

    @Override
    public WriterCommitMessage commit() throws IOException {
        close();
        return new PartCommitMessage(chunks.isEmpty() ? null : part.toString(), written, chunks);
    }

    @Override
    public void abort() throws IOException {
        close();
        OutputFiles.fileSystem(part, factory.hadoopConf().get()).delete(part.getParent(), true);
    }

    @Override
    public void close() throws IOException {
        if (out != null) {
            OutputStream s = out;
            out = null;
            s.close();
        }
    }
}
