package io.sparktensors.spark.write;

import io.sparktensors.errors.DatasetErrors;
import io.sparktensors.format.DType;
import io.sparktensors.format.FloatConversion;
import io.sparktensors.format.safetensors.HeaderWriter;
import io.sparktensors.format.safetensors.TensorEntry;
import io.sparktensors.spark.DatasetColumn;
import io.sparktensors.spark.DatasetLayout;
import io.sparktensors.spark.GrowableBytes;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.LongConsumer;
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
 *
 * <p>A padded column ({@code ragged=pad}) is buffered unpadded with each row's lengths in preorder; at the end
 * of the file every dimension is padded with zeros to its longest length in the file, and
 * {@code COLUMN.lengths} ([rows]), {@code COLUMN.lengths.2} ([rows, M1]), ... record the lengths along each
 * dimension (0 where the parent is padding).
 */
final class DatasetOutputWriter extends OutputWriter {
    private static final Pattern COUNTER = Pattern.compile("^(.*-c)(\\d+)(\\.safetensors)$");
    private static final int CONVERT_ELEMENTS = 1 << 16;
    private static final byte[] ZEROS = new byte[1 << 16];

    private final String path;
    private final DatasetWriteConf conf;
    private final Configuration hadoopConf;
    private final DatasetColumn[] columns;
    private final GrowableBytes[] buffers;
    /** Per column: the rows' shape (rectangular columns) or the longest length per level in this file (padded). */
    private final long[][] shapes;
    /** Per padded column, the file's rows' lengths in preorder; null for rectangular columns. */
    private final LongList[] lengths;

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
        this.lengths = new LongList[columns.length];
        for (int i = 0; i < columns.length; i++) {
            buffers[i] = new GrowableBytes(columns[i].name(), 1 << 16, conf.maxFileSize());
            shapes[i] = new long[columns[i].depth()];
            if (conf.pad() && columns[i].paddable()) {
                lengths[i] = new LongList(columns[i].name(), conf.maxFileSize());
            }
        }
        TaskContext task = TaskContext.get();
        this.partition = task == null ? 0 : task.partitionId();
    }

    @Override
    public void write(InternalRow row) {
        long bytes = 0;
        for (int i = 0; i < columns.length; i++) {
            if (lengths[i] != null) {
                columns[i].appendRagged(row, i, buffers[i], lengths[i], shapes[i], rowsInTask, partition);
                long padded = Math.max(buffers[i].size(), paddedBytes(i, rowsInFile + 1L));
                bytes = padded == Long.MAX_VALUE ? Long.MAX_VALUE : bytes + padded + lengths[i].size() * 8L;
            } else {
                columns[i].append(row, i, buffers[i], shapes[i], rowsInTask, partition, rowsInTask == 0);
                bytes = bytes == Long.MAX_VALUE ? bytes : bytes + buffers[i].size();
            }
        }
        rowsInTask++;
        rowsInFile++;
        if ((conf.rowsPerFile() > 0 && rowsInFile >= conf.rowsPerFile()) || bytes >= conf.maxFileSize()) {
            flush();
        }
    }

    /** The padded tensor's size for {@code rows} rows at the longest lengths so far (saturating). */
    private long paddedBytes(int i, long rows) {
        try {
            long elements = rows;
            for (long m : shapes[i]) {
                elements = Math.multiplyExact(elements, m);
            }
            return Math.multiplyExact(elements, columns[i].stored().bits() / 8);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
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

    /** Where a tensor's bytes come from: a column's data (level 0) or its lengths along dimension level. */
    private record Source(int column, int level) {}

    /** Writes the buffered rows as one file and empties the buffers. */
    private void flush() {
        int rows = rowsInFile;
        List<HeaderWriter.Spec> specs = new ArrayList<>();
        Map<String, Source> sources = new HashMap<>();
        for (int i = 0; i < columns.length; i++) {
            DatasetColumn c = columns[i];
            long[] inner = c.kind() == DatasetColumn.Kind.BINARY ? c.declaredShape() : shapes[i].clone();
            if (lengths[i] != null) {
                if (paddedBytes(i, rows) == Long.MAX_VALUE) {
                    throw DatasetErrors.tooLarge(c.name(), Long.MAX_VALUE);
                }
                for (int k = 1; k <= inner.length; k++) {
                    String name = DatasetLayout.lengths(c.name(), k);
                    specs.add(new HeaderWriter.Spec(name, DType.I64, withRows(rows, Arrays.copyOf(inner, k - 1))));
                    sources.put(name, new Source(i, k));
                }
            }
            specs.add(new HeaderWriter.Spec(c.name(), c.stored(), withRows(rows, inner)));
            sources.put(c.name(), new Source(i, 0));
        }
        List<TensorEntry> entries = HeaderWriter.layout(specs);
        SortedMap<String, String> metadata = new TreeMap<>(conf.metadata());
        metadata.put(DatasetLayout.ROWS, Integer.toString(rows));
        Path file = new Path(nextPath());
        try (OutputStream out =
                new BufferedOutputStream(file.getFileSystem(hadoopConf).create(file, false), 1 << 16)) {
            out.write(HeaderWriter.write(metadata, entries));
            for (TensorEntry e : entries) {
                Source s = sources.get(e.name());
                int i = s.column();
                if (lengths[i] == null) {
                    writeConverted(out, columns[i], buffers[i].view());
                } else if (s.level() == 0) {
                    new Padding(columns[i], lengths[i], shapes[i], out).data(buffers[i].view(), rows);
                } else {
                    new Padding(columns[i], lengths[i], shapes[i], out).lengths(s.level() - 1, rows);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write the dataset file " + file + ": " + e.getMessage(), e);
        }
        for (int i = 0; i < columns.length; i++) {
            buffers[i].clear();
            if (lengths[i] != null) {
                lengths[i].clear();
                Arrays.fill(shapes[i], 0);
            }
        }
        rowsInFile = 0;
        files++;
    }

    private static long[] withRows(int rows, long[] inner) {
        long[] shape = new long[inner.length + 1];
        shape[0] = rows;
        System.arraycopy(inner, 0, shape, 1, inner.length);
        return shape;
    }

    /**
     * Writes one padded column's tensors from its unpadded elements and preorder lengths: walks the lengths
     * once per tensor, writing each (sub-)array's elements and then zeros up to the longest length of its level.
     */
    private static final class Padding {
        private final DatasetColumn column;
        private final LongList lengths;
        private final long[] max;
        private final OutputStream out;
        private final int storedBytes;
        private int next;

        Padding(DatasetColumn column, LongList lengths, long[] max, OutputStream out) {
            this.column = column;
            this.lengths = lengths;
            this.max = max;
            this.out = out;
            this.storedBytes = column.stored().bits() / 8;
        }

        /** The [rows, M1, ..., Md] tensor. */
        void data(ByteBuffer elements, int rows) throws IOException {
            ByteBuffer src = elements.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            for (int r = 0; r < rows; r++) {
                element(src, 0);
            }
        }

        /** One (sub-)array at {@code level}, padded. */
        private void element(ByteBuffer src, int level) throws IOException {
            long n = lengths.get(next++);
            long inner = product(level + 1, max.length);
            if (level + 1 == max.length) {
                ByteBuffer run = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
                run.limit(run.position() + Math.toIntExact(n * (column.natural().bits() / 8)));
                src.position(run.limit());
                writeConverted(out, column, run);
            } else {
                for (long i = 0; i < n; i++) {
                    element(src, level + 1);
                }
            }
            zeros(out, (max[level] - n) * inner * storedBytes);
        }

        /** The lengths along dimension {@code target + 1}: [rows, M1, ..., M_target]. */
        void lengths(int target, int rows) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(1 << 13).order(ByteOrder.LITTLE_ENDIAN);
            for (int r = 0; r < rows; r++) {
                lengthsAt(target, 0, b);
            }
            out.write(b.array(), 0, b.position());
        }

        private void lengthsAt(int target, int level, ByteBuffer b) throws IOException {
            long n = lengths.get(next++);
            if (level == target) {
                if (!b.hasRemaining()) {
                    out.write(b.array(), 0, b.position());
                    b.clear();
                }
                b.putLong(n);
            }
            if (level + 1 < max.length) {
                for (long i = 0; i < n; i++) {
                    lengthsAt(target, level + 1, b);
                }
            }
            if (level < target) {
                out.write(b.array(), 0, b.position());
                b.clear();
                zeros(out, (max[level] - n) * product(level + 1, target) * 8);
            }
        }

        private long product(int from, int to) {
            long p = 1;
            for (int k = from; k < to; k++) {
                p *= max[k];
            }
            return p;
        }
    }

    private static void zeros(OutputStream out, long bytes) throws IOException {
        while (bytes > 0) {
            int n = (int) Math.min(bytes, ZEROS.length);
            out.write(ZEROS, 0, n);
            bytes -= n;
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

    /** A growable list of longs (a padded column's lengths), bounded like the column's bytes. */
    static final class LongList implements LongConsumer {
        private final String column;
        private final long limit;
        private long[] values = new long[64];
        private int size;

        LongList(String column, long maxFileSize) {
            this.column = column;
            this.limit = Math.min(Integer.MAX_VALUE - 16, maxFileSize / 8 + (1 << 17));
        }

        @Override
        public void accept(long v) {
            if (size == values.length) {
                if (size >= limit) {
                    throw DatasetErrors.tooLarge(column + DatasetLayout.LENGTHS_SUFFIX, limit * 8);
                }
                values = Arrays.copyOf(values, (int) Math.min(limit, 2L * size));
            }
            values[size++] = v;
        }

        long get(int i) {
            return values[i];
        }

        int size() {
            return size;
        }

        void clear() {
            size = 0;
        }
    }
}
