package io.sparktensors.spark.write;

import io.sparktensors.format.DType;
import io.sparktensors.format.FloatConversion;
import io.sparktensors.format.safetensors.HeaderWriter;
import io.sparktensors.format.safetensors.TensorEntry;
import io.sparktensors.spark.DatasetColumn;
import io.sparktensors.spark.DatasetLayout;
import io.sparktensors.spark.GrowableBytes;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.execution.datasources.OutputWriter;

/**
 * Writes one task's rows (of one {@code partitionBy} folder) as training-data files: rows are buffered column
 * by column, in each column's own dtype, until the file holds {@code rowsPerFile} rows or {@code maxFileSize}
 * bytes; then the file is written (header, then each column's tensor of shape [rows, ...]) and the buffers
 * reused. So a task holds at most one file's worth of rows.
 *
 * <p>The first file is the one Spark named ({@code part-NNNNN-JOB-c000.safetensors}); the next ones count on
 * ({@code -c001}, ...) in the same task attempt folder, so Spark's commit protocol, which publishes a task
 * attempt's whole folder, publishes them with it (Spark's own rolling, {@code maxRecordsPerFile}, is switched
 * off for this write).
 */
final class DatasetOutputWriter extends OutputWriter {
    private static final Pattern COUNTER = Pattern.compile("^(.*-c)(\\d+)(\\.safetensors)$");
    private static final int CONVERT_ELEMENTS = 1 << 16;

    private final String path;
    private final DatasetWriteConf conf;
    private final Configuration hadoopConf;
    private final DatasetColumn[] columns;
    private final GrowableBytes[] buffers;
    private final long[][] shapes;
    private final List<long[]> lengths = new ArrayList<>();
    private final int partition;
    private long rowsInTask;
    private int rowsInFile;
    private int files;

    DatasetOutputWriter(String path, DatasetWriteConf conf, Configuration hadoopConf) {
        this.path = path;
        this.conf = conf;
        this.hadoopConf = hadoopConf;
        this.columns = conf.columns();
        this.buffers = new GrowableBytes[columns.length];
        this.shapes = new long[columns.length][];
        for (int i = 0; i < columns.length; i++) {
            buffers[i] = new GrowableBytes(columns[i].name(), 1 << 16, conf.maxFileSize());
            shapes[i] = new long[columns[i].depth()];
            lengths.add(null);
        }
        TaskContext task = TaskContext.get();
        this.partition = task == null ? 0 : task.partitionId();
    }

    @Override
    public void write(InternalRow row) {
        long bytes = 0;
        for (int i = 0; i < columns.length; i++) {
            boolean pad = conf.pad() && columns[i].depth() == 1;
            long n = columns[i].append(
                    row,
                    i,
                    buffers[i],
                    shapes[i],
                    pad,
                    rowsInTask,
                    partition,
                    rowsInTask == 0 || (rowsInFile == 0 && pad));
            if (pad) {
                long[] l = lengths.get(i);
                if (l == null || l.length == rowsInFile) {
                    l = java.util.Arrays.copyOf(l == null ? new long[0] : l, Math.max(16, rowsInFile * 2));
                    lengths.set(i, l);
                }
                l[rowsInFile] = n;
            }
            bytes += buffers[i].size();
        }
        rowsInTask++;
        rowsInFile++;
        if ((conf.rowsPerFile() > 0 && rowsInFile >= conf.rowsPerFile()) || bytes >= conf.maxFileSize()) {
            flush();
        }
    }

    @Override
    public void close() {
        if (rowsInFile > 0 || files == 0) {
            flush();
        }
    }

    @Override
    public String path() {
        return path;
    }

    private String nextPath() {
        if (files == 0) {
            return path;
        }
        Matcher m = COUNTER.matcher(path);
        if (m.matches()) {
            int width = m.group(2).length();
            return m.group(1) + String.format("%0" + width + "d", Integer.parseInt(m.group(2)) + files) + m.group(3);
        }
        return path.replaceFirst("\\.safetensors$", "") + String.format("-%05d.safetensors", files);
    }

    /** Writes the buffered rows as one file and empties the buffers. */
    private void flush() {
        int rows = rowsInFile;
        List<HeaderWriter.Spec> specs = new ArrayList<>();
        Map<String, Integer> columnOf = new HashMap<>();
        long[] padTo = new long[columns.length];
        for (int i = 0; i < columns.length; i++) {
            DatasetColumn c = columns[i];
            long[] inner = c.kind() == DatasetColumn.Kind.BINARY ? c.declaredShape() : shapes[i].clone();
            long[] l = lengths.get(i);
            if (l != null) {
                long max = 0;
                for (int r = 0; r < rows; r++) {
                    max = Math.max(max, l[r]);
                }
                inner = new long[] {max};
                padTo[i] = max;
                specs.add(new HeaderWriter.Spec(c.name() + DatasetLayout.LENGTHS_SUFFIX, DType.I64, new long[] {rows}));
                columnOf.put(c.name() + DatasetLayout.LENGTHS_SUFFIX, -1 - i);
            }
            long[] shape = new long[inner.length + 1];
            shape[0] = rows;
            System.arraycopy(inner, 0, shape, 1, inner.length);
            specs.add(new HeaderWriter.Spec(c.name(), c.stored(), shape));
            columnOf.put(c.name(), i);
        }
        List<TensorEntry> entries = HeaderWriter.layout(specs);
        SortedMap<String, String> metadata = new TreeMap<>(conf.metadata());
        metadata.put(DatasetLayout.ROWS, Integer.toString(rows));
        Path file = new Path(nextPath());
        try (OutputStream out = file.getFileSystem(hadoopConf).create(file, false)) {
            out.write(HeaderWriter.write(metadata, entries));
            for (TensorEntry e : entries) {
                int i = columnOf.get(e.name());
                if (i < 0) {
                    writeLengths(out, lengths.get(-1 - i), rows);
                } else if (lengths.get(i) != null) {
                    writePadded(out, columns[i], buffers[i], lengths.get(i), rows, padTo[i]);
                } else {
                    writeConverted(out, columns[i], buffers[i].view());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write the dataset file " + file + ": " + e.getMessage(), e);
        }
        for (GrowableBytes b : buffers) {
            b.clear();
        }
        rowsInFile = 0;
        files++;
    }

    private static void writeLengths(OutputStream out, long[] l, int rows) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(rows * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < rows; r++) {
            b.putLong(l[r]);
        }
        out.write(b.array(), 0, b.position());
    }

    private static void writePadded(
            OutputStream out, DatasetColumn c, GrowableBytes buf, long[] l, int rows, long padTo) throws IOException {
        ByteBuffer all = buf.view();
        int natural = c.natural().bits() / 8;
        byte[] zeros = new byte[(int) (padTo * (c.stored().bits() / 8))];
        int at = 0;
        for (int r = 0; r < rows; r++) {
            int len = (int) l[r] * natural;
            ByteBuffer row = all.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            row.position(at).limit(at + len);
            writeConverted(out, c, row);
            out.write(zeros, 0, (int) ((padTo - l[r]) * (c.stored().bits() / 8)));
            at += len;
        }
    }

    /** Writes natural-dtype elements in the stored dtype, converting a bounded run at a time. */
    private static void writeConverted(OutputStream out, DatasetColumn c, ByteBuffer src) throws IOException {
        if (c.natural() == c.stored()) {
            out.write(src.array(), src.arrayOffset() + src.position(), src.remaining());
            return;
        }
        int inBytes = c.natural().bits() / 8;
        int outBytes = c.stored().bits() / 8;
        ByteBuffer dst = ByteBuffer.allocate(CONVERT_ELEMENTS * outBytes).order(ByteOrder.LITTLE_ENDIAN);
        while (src.hasRemaining()) {
            ByteBuffer run = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            run.limit(Math.min(src.limit(), src.position() + CONVERT_ELEMENTS * inBytes));
            src.position(run.limit());
            dst.clear();
            FloatConversion.convert(c.natural(), c.stored(), run, dst);
            out.write(dst.array(), 0, dst.position());
        }
    }
}
