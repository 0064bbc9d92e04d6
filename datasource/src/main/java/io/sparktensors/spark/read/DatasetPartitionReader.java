package io.sparktensors.spark.read;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.safetensors.TensorEntry;
import io.sparktensors.io.HadoopInputFile;
import io.sparktensors.io.InputFile;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import io.sparktensors.spark.DatasetColumn;
import io.sparktensors.spark.SerializableConfiguration;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Reads one {@link DatasetInputPartition}: for a dataset split, each column's slice of rows in one positioned
 * read (bounded by the split's size), decoded into the original Spark values; for kv, each row's tensors.
 */
final class DatasetPartitionReader implements PartitionReader<InternalRow> {
    private final StructType schema;
    private final DatasetInputPartition split;
    private final SerializableConfiguration conf;
    private final Map<Integer, SeekableInput> open = new HashMap<>();
    private Object[][] columns;
    private int rows;
    private int next = -1;

    DatasetPartitionReader(StructType schema, DatasetInputPartition split, SerializableConfiguration conf) {
        this.schema = schema;
        this.split = split;
        this.conf = conf;
    }

    /** Ships the required schema and the Hadoop settings to the tasks. */
    static final class Factory implements PartitionReaderFactory {
        private static final long serialVersionUID = 1L;
        private final StructType schema;
        private final SerializableConfiguration conf;

        Factory(StructType schema, SerializableConfiguration conf) {
            this.schema = schema;
            this.conf = conf;
        }

        @Override
        public PartitionReader<InternalRow> createReader(InputPartition partition) {
            return new DatasetPartitionReader(schema, (DatasetInputPartition) partition, conf);
        }
    }

    @Override
    public boolean next() throws IOException {
        if (columns == null) {
            load();
        }
        return ++next < rows;
    }

    @Override
    public InternalRow get() {
        Object[] values = new Object[schema.fields().length];
        boolean kv = split.rowEnd() < 0;
        for (int i = 0; i < values.length; i++) {
            if (columns[i] != null) {
                values[i] = columns[i][next];
            } else if (kv) {
                values[i] = i == split.rowStart() ? split.partitionValues()[next] : null;
            } else {
                values[i] = split.partitionValues()[i];
            }
        }
        return new GenericInternalRow(values);
    }

    private void load() throws IOException {
        int n = schema.fields().length;
        columns = new Object[n][];
        if (split.rowEnd() < 0) {
            loadKv();
            return;
        }
        rows = Math.toIntExact(split.rowEnd() - split.rowStart());
        DatasetInputPartition.Cell[] cells = split.cells().get(0);
        for (int i = 0; i < n; i++) {
            DatasetInputPartition.Cell c = cells[i];
            if (c == null) {
                continue;
            }
            long[] shape = c.entry().shape();
            long[] rowShape = Arrays.copyOfRange(shape, 1, shape.length);
            long rowBytes = shape[0] == 0 ? 0 : c.entry().byteLength() / shape[0];
            ByteBuffer bytes = read(c.file(), c.entry().begin() + split.rowStart() * rowBytes, rows * rowBytes);
            long[][] lengths = c.lengths() == null ? null : lengths(c, rowShape);
            columns[i] = column(schema.fields()[i], c.entry(), rowShape).decode(bytes, rows, rowShape, lengths);
        }
    }

    /** The split's rows of a padded column's lengths tensors, each length checked against its dimension. */
    private long[][] lengths(DatasetInputPartition.Cell c, long[] rowShape) throws IOException {
        long[][] out = new long[c.lengths().size()][];
        for (int k = 0; k < out.length; k++) {
            TensorEntry l = c.lengths().get(k);
            long perRow = TensorEntry.elementCount(Arrays.copyOfRange(l.shape(), 1, l.shape().length));
            ByteBuffer b = read(c.file(), l.begin() + split.rowStart() * perRow * 8, rows * perRow * 8);
            out[k] = new long[Math.toIntExact(rows * perRow)];
            b.asLongBuffer().get(out[k]);
            for (long v : out[k]) {
                if (v < 0 || v > rowShape[k]) {
                    throw new MalformedTensorFileException(
                            split.files().get(c.file()),
                            l.name(),
                            "length " + v + " lies outside [0, " + rowShape[k] + "], the padded dimension");
                }
            }
        }
        return out;
    }

    private void loadKv() throws IOException {
        rows = split.cells().size();
        int n = schema.fields().length;
        for (int i = 0; i < n; i++) {
            if (i != split.rowStart()) {
                columns[i] = new Object[rows];
            }
        }
        for (int r = 0; r < rows; r++) {
            DatasetInputPartition.Cell[] cells = split.cells().get(r);
            for (int i = 0; i < n; i++) {
                DatasetInputPartition.Cell c = cells[i];
                if (c == null) {
                    continue;
                }
                long[] shape = c.entry().shape();
                ByteBuffer bytes = read(c.file(), c.entry().begin(), c.entry().byteLength());
                columns[i][r] = column(schema.fields()[i], c.entry(), shape).decode(bytes, 1, shape, null)[0];
            }
        }
    }

    private static DatasetColumn column(StructField field, TensorEntry entry, long[] rowShape) {
        return DatasetColumn.of(field, null, new long[0]).storedAs(entry.dtype(), rowShape);
    }

    private ByteBuffer read(int file, long offset, long length) throws IOException {
        SeekableInput in = open.get(file);
        if (in == null) {
            Path path = new Path(split.files().get(file));
            FileSystem fs = path.getFileSystem(conf.get());
            InputFile f = HadoopInputFile.of(fs, fs.getFileStatus(path));
            in = f.open(ReadPolicy.SEQUENTIAL);
            open.put(file, in);
        }
        byte[] b = new byte[Math.toIntExact(length)];
        in.readFully(split.dataStarts().get(file) + offset, b, 0, b.length);
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void close() throws IOException {
        List<IOException> failures = new ArrayList<>();
        for (SeekableInput in : open.values()) {
            try {
                in.close();
            } catch (IOException e) {
                failures.add(e);
            }
        }
        open.clear();
        if (!failures.isEmpty()) {
            throw failures.get(0);
        }
    }
}
