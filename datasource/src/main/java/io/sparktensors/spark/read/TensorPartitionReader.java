package io.sparktensors.spark.read;

import io.sparktensors.checkpoint.FileSlice;
import io.sparktensors.checkpoint.ReadSplit;
import io.sparktensors.checkpoint.TensorChunk;
import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.io.HadoopInputFile;
import io.sparktensors.io.MappedBytes;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import io.sparktensors.spark.Allocators;
import io.sparktensors.spark.HadoopDecoderFiles;
import io.sparktensors.spark.read.metrics.TensorScanMetrics;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads one split into Arrow batches. Tensor bytes go from the file straight into the batch's Arrow data
 * buffer; each file is read front to back and only when the data column is wanted. A batch never spans two
 * files, is bounded in rows and bytes, and holds at least one chunk. When tensor data is read, the next batch
 * is read ahead into a second set of vectors while Spark consumes the current one, so storage and the CPU
 * work at once (memory: two batches).
 */
final class TensorPartitionReader implements PartitionReader<ColumnarBatch> {
    private static final Logger LOG = LoggerFactory.getLogger(TensorPartitionReader.class);
    private static final ExecutorService READ_AHEAD = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "spark-tensors-read-ahead");
        t.setDaemon(true);
        return t;
    });

    private final List<FileSlice> slices;
    private final TensorReadContext context;
    private final BufferAllocator allocator;
    private int slice;
    private int next; // next chunk of the current slice
    private SeekableInput input;
    /** The other files decoders read (a DCP tensor's other rank files), open for the whole split. */
    private final HadoopDecoderFiles otherFiles;

    private final TensorVectors[] vectors;
    /** Whether a local file's batches may be its mapped pages ({@link #mapsBatch}). */
    private final boolean map = MappedBytes.enabled();
    /** The computed columns asked for ({@code _stats}, {@code _sha256}), or null. */
    private final ComputedVectors computed;

    private ColumnarBatch batch;
    private Future<ColumnarBatch> ahead;
    private int filling;
    private boolean done;
    /** Set by close(): the read ahead stops at the next chunk instead of finishing its batch. */
    private volatile boolean stopping;

    private volatile long bytesRead;
    private volatile long bytesMapped;
    private volatile long chunksRead;
    private volatile long filesOpened;

    TensorPartitionReader(ReadSplit split, TensorReadContext context) {
        this.slices = split.slices();
        this.context = context;
        this.allocator = Allocators.newChild("spark-tensors-reader");
        this.otherFiles = new HadoopDecoderFiles(context.configuration());
        this.computed = ComputedVectors.of(context.requiredSchema());
        StructType vectorSchema = ComputedVectors.vectorSchema(context.requiredSchema());
        TensorVectors first = new TensorVectors(vectorSchema, allocator);
        this.vectors = first.readsData()
                ? new TensorVectors[] {first, new TensorVectors(vectorSchema, allocator)}
                : new TensorVectors[] {first};
    }

    @Override
    public boolean next() throws IOException {
        batch = null;
        if (done) {
            return false;
        }
        TensorVectors current = vectors[0];
        if (vectors.length == 1) {
            batch = readBatch(current);
        } else {
            // Spark has released the batch it held; the one read ahead is in vectors[filling].
            if (ahead == null) {
                TensorVectors target = vectors[filling];
                ahead = READ_AHEAD.submit(() -> readBatch(target));
            }
            batch = await();
            current = vectors[filling];
            if (batch != null) {
                filling ^= 1;
                TensorVectors target = vectors[filling];
                ahead = READ_AHEAD.submit(() -> readBatch(target));
            }
        }
        done = batch == null;
        if (!done && computed != null) {
            batch = computed.project(
                    batch, current.mappedFile()); // computed here, on the task's thread, as the next batch is read
        }
        return !done;
    }

    private ColumnarBatch await() throws IOException {
        try {
            ColumnarBatch b = ahead.get();
            ahead = null;
            return b;
        } catch (InterruptedException e) {
            // The read ahead may still be writing into our vectors: keep it, so close() waits for it.
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("Interrupted reading tensor data");
        } catch (ExecutionException e) {
            ahead = null;
            done = true;
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(e.getCause());
        }
    }

    /** The next batch of this split into {@code into}, or null at the end. */
    private ColumnarBatch readBatch(TensorVectors into) throws IOException {
        while (slice < slices.size()) {
            FileSlice s = slices.get(slice);
            if (next >= s.chunks().size()) {
                nextSlice();
                continue;
            }
            int end = batchEnd(s.chunks(), next);
            try {
                ColumnarBatch read = read(into, s, next, end);
                next = end;
                return read;
            } catch (InternalError e) {
                // The JVM's error for a mapped page that is gone (delivered where it notices, at the latest soon
                // after): the file was truncated under the scan.
                throw MalformedTensorFileException.changedWhileRead(
                        s.file().location(), s.chunks().get(next).name(), e);
            } catch (java.io.InterruptedIOException e) {
                throw e; // closing or cancelled: not a fault of the file
            } catch (FileNotFoundException e) {
                if (!context.ignoreMissingFiles()) {
                    throw e;
                }
                LOG.warn(
                        "Skipping the rest of missing file {} (ignoreMissingFiles): {}",
                        s.file().location(),
                        e.toString());
                nextSlice();
            } catch (IOException | RuntimeException e) {
                if (!context.ignoreCorruptFiles()) {
                    throw e instanceof MalformedTensorFileException || e instanceof java.io.EOFException
                            ? (IOException) e
                            : new IOException(
                                    "Cannot read tensor data from '" + s.file().location() + "': " + e, e);
                }
                LOG.warn(
                        "Skipping the rest of corrupt file {} (ignoreCorruptFiles): {}",
                        s.file().location(),
                        e.toString());
                nextSlice();
            }
        }
        return null;
    }

    /** The end of the batch starting at {@code from}: bounded by rows and by bytes, at least one chunk. */
    private int batchEnd(List<TensorChunk> chunks, int from) {
        boolean data = vectors[0].readsData();
        long bytes = 0;
        int end = from;
        while (end < chunks.size() && end - from < context.batchRows()) {
            long len = data ? chunks.get(end).length() : 0;
            if (end > from && bytes + len > context.batchBytes()) {
                break;
            }
            bytes += len;
            end++;
        }
        return end;
    }

    private ColumnarBatch read(TensorVectors into, FileSlice s, int from, int to) throws IOException {
        int rows = to - from;
        int[] lengths = new int[rows];
        for (int i = 0; i < rows; i++) {
            lengths[i] = s.chunks().get(from + i).length();
        }
        boolean mapped = into.readsData() && mapsBatch(s, from, to);
        if (mapped) {
            TensorChunk first = s.chunks().get(from);
            TensorChunk last = s.chunks().get(to - 1);
            int total = (int) (last.offset() + last.length() - first.offset());
            MappedByteBuffer region;
            try {
                region = input(s).map(first.offset(), total);
            } catch (java.io.EOFException e) {
                throw new MalformedTensorFileException(s.file().location(), last.name(), e.getMessage(), e);
            }
            into.startMapped(rows, lengths, region, s.file().location());
            region.load(); // on the read-ahead thread: pages read and mapped while Spark uses the last batch
            bytesMapped += total;
        } else {
            into.start(rows, lengths);
        }
        byte[] fileBytes = s.file().location().getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < rows; i++) {
            if (stopping) {
                throw new java.io.InterruptedIOException("The reader is closing");
            }
            TensorChunk c = s.chunks().get(from + i);
            into.setRow(i, s.file(), fileBytes, c);
            if (into.readsData()) {
                if (!mapped) {
                    SeekableInput in = input(s);
                    try {
                        if (c.decoder() == null) {
                            in.readFully(c.offset(), into.dataTarget(i, c.length()));
                        } else {
                            c.decoder()
                                    .decode(in, otherFiles, c.chunkStart(), c.rows(), into.dataTarget(i, c.length()));
                        }
                    } catch (java.io.EOFException e) {
                        throw new MalformedTensorFileException(s.file().location(), c.name(), e.getMessage(), e);
                    }
                }
                bytesRead += c.length();
            }
        }
        chunksRead += rows;
        return into.finish(rows);
    }

    /**
     * Whether the batch's data column can be the file's own pages: a local file, plain chunks (no decoding) that
     * lie back to back in it, and at least one byte. Then nothing is copied; anything else is read into Arrow.
     */
    private boolean mapsBatch(FileSlice s, int from, int to) throws IOException {
        if (!map || !input(s).canMap()) {
            return false;
        }
        long start = s.chunks().get(from).offset();
        long end = start;
        for (int i = from; i < to; i++) {
            TensorChunk c = s.chunks().get(i);
            if (c.decoder() != null || c.offset() != end) {
                return false;
            }
            end += c.length();
        }
        return end > start && end - start <= Integer.MAX_VALUE;
    }

    private SeekableInput input(FileSlice s) throws IOException {
        if (input == null) {
            Path path = new Path(s.file().location());
            input = HadoopInputFile.forData(
                            path.getFileSystem(context.configuration()),
                            path,
                            s.file().length())
                    .open(ReadPolicy.SEQUENTIAL);
            filesOpened++;
        }
        return input;
    }

    private void nextSlice() throws IOException {
        closeInput();
        slice++;
        next = 0;
    }

    private void closeInput() throws IOException {
        if (input != null) {
            SeekableInput in = input;
            input = null;
            in.close();
        }
    }

    /** Waits, whatever interrupts come, until no read ahead runs; then restores the interrupt status. */
    private void waitForReadAhead() {
        if (ahead == null) {
            return;
        }
        boolean interrupted = false;
        while (true) {
            try {
                ahead.get();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            } catch (ExecutionException | java.util.concurrent.CancellationException e) {
                LOG.debug("Read ahead failed while closing", e);
                break;
            }
        }
        ahead = null;
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public ColumnarBatch get() {
        return batch;
    }

    @Override
    public CustomTaskMetric[] currentMetricsValues() {
        return new CustomTaskMetric[] {
            TensorScanMetrics.value(TensorScanMetrics.TENSOR_BYTES, bytesRead),
            TensorScanMetrics.value(TensorScanMetrics.TENSOR_BYTES_MAPPED, bytesMapped),
            TensorScanMetrics.value(TensorScanMetrics.CHUNKS, chunksRead),
            TensorScanMetrics.value(TensorScanMetrics.FILES_OPENED, filesOpened + otherFiles.opened()),
        };
    }

    @Override
    public void close() throws IOException {
        batch = null;
        try {
            stopping = true;
            waitForReadAhead(); // it writes into vectors this close frees
            closeInput();
            otherFiles.close();
        } finally {
            for (TensorVectors v : vectors) {
                v.close();
            }
            allocator.close();
        }
    }
}
