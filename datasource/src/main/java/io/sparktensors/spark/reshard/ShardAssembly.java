package io.sparktensors.spark.reshard;

import io.sparktensors.checkpoint.AssemblyPlan;
import io.sparktensors.checkpoint.AssemblyPlan.Range;
import io.sparktensors.checkpoint.AssemblyPlan.Source;
import io.sparktensors.checkpoint.ChunkPlanner;
import io.sparktensors.checkpoint.ShardOutput;
import io.sparktensors.checkpoint.ShardPlan;
import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.DType;
import io.sparktensors.format.TensorDecoder;
import io.sparktensors.format.safetensors.TensorEntry;
import io.sparktensors.io.HadoopInputFile;
import io.sparktensors.io.OutputFiles;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import io.sparktensors.spark.HadoopDecoderFiles;
import io.sparktensors.spark.SerializableConfiguration;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * Writes planned shards from byte ranges of existing files, one Spark task per shard: each task streams its
 * tensors' ranges through a fixed-size buffer into one staged shard file (converting dtypes on the fly), so
 * a task's memory stays flat whatever the tensor size. The re-shard job reads the source checkpoint's ranges;
 * the DataFrame writer reads the parts its first stage staged.
 */
public final class ShardAssembly {
    /** Bytes a task copies at a time. */
    static final int COPY_BYTES = 4 << 20;

    private ShardAssembly() {}

    /** A shard written completely into staging. */
    record StagedShard(int shard, String path) implements Serializable {}

    /** Runs one task per shard and returns the staged shard files by file name. */
    public static Map<String, Path> run(
            SparkSession spark, AssemblyPlan assembly, CheckpointCommitter committer, Configuration conf) {
        ShardPlan plan = assembly.shards();
        Map<String, Source> sources = assembly.sources();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<ShardPlan> planBroadcast = jsc.broadcast(plan);
        Broadcast<Map<String, Source>> sourceBroadcast = jsc.broadcast(sources);
        SerializableConfiguration serializableConf = new SerializableConfiguration(conf);
        List<Integer> shards = new ArrayList<>();
        for (int i = 0; i < plan.shards().size(); i++) {
            shards.add(i);
        }
        try {
            List<StagedShard> staged = jsc.parallelize(shards, Math.max(1, shards.size()))
                    .map(i -> writeShard(
                            i, planBroadcast.value(), sourceBroadcast.value(), committer, serializableConf.get()))
                    .collect();
            Map<String, Path> files = new TreeMap<>();
            for (StagedShard s : staged) {
                files.put(plan.shards().get(s.shard()).fileName(), new Path(s.path()));
            }
            return files;
        } finally {
            planBroadcast.destroy();
            sourceBroadcast.destroy();
        }
    }

    /** One task: streams one shard into this attempt's staging folder. */
    static StagedShard writeShard(
            int index, ShardPlan plan, Map<String, Source> sources, CheckpointCommitter committer, Configuration conf)
            throws IOException {
        TaskContext task = TaskContext.get();
        String attempt = "shard-" + index + "-" + (task == null ? "driver" : task.taskAttemptId());
        ShardPlan.Shard shard = plan.shards().get(index);
        Path path = new Path(committer.attemptDir(attempt), shard.fileName());
        Map<String, DType> sourceDtypes = new HashMap<>();
        for (TensorEntry t : shard.tensors()) {
            sourceDtypes.put(t.name(), sources.get(t.name()).dtype());
        }
        boolean plain = plainCopies(shard, sources);
        OutputStream file = OutputFiles.create(path, conf);
        // A local file takes off-heap buffers as they are: bytes that need no decoding or conversion then pass
        // from the source to the output with no copy through the heap.
        boolean offHeap = plain && file instanceof WritableByteChannel;
        try (OutputStream out = file instanceof WritableByteChannel ? file : new BufferedOutputStream(file, 1 << 20);
                ReadAhead ahead = new ReadAhead(shard.tensors(), sources, conf, offHeap)) {
            ShardOutput output = new ShardOutput(path.toString(), shard, sourceDtypes, out);
            for (ReadAhead.Piece p = ahead.take(); p != ReadAhead.END; p = ahead.take()) {
                if (p.buffer() == null) {
                    output.begin(shard.tensors().get(p.tensor()).name());
                    continue;
                }
                int length = p.buffer().remaining();
                output.append(p.buffer());
                ahead.recycle(p.buffer());
            }
            output.finish();
        }
        return new StagedShard(index, path.toString());
    }

    /** Whether every tensor of the shard is plain runs of bytes that keep their dtype. */
    private static boolean plainCopies(ShardPlan.Shard shard, Map<String, Source> sources) {
        for (TensorEntry t : shard.tensors()) {
            Source source = sources.get(t.name());
            if (source.dtype() != t.dtype() || source.ranges().stream().anyMatch(r -> r.decoder() != null)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Reads a shard's source ranges on a helper thread, a few buffers ahead of the task that writes them, so
     * reading and writing overlap. Memory: {@link #DEPTH} buffers of {@link #COPY_BYTES}.
     */
    static final class ReadAhead implements AutoCloseable {
        static final int DEPTH = 3;
        /** A tensor starts ({@code buffer} null), or the remaining bytes of {@code buffer} are its next ones. */
        record Piece(int tensor, ByteBuffer buffer) {}

        static final Piece END = new Piece(-1, null);
        private static final ExecutorService POOL = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "spark-tensors-shard-read-ahead");
            t.setDaemon(true);
            return t;
        });

        /**
         * Off-heap buffers kept for the next task in this JVM, so a task neither allocates (and zeroes) new native
         * memory nor leaves its buffers for the collector to free; at most this many are kept.
         */
        private static final BlockingQueue<ByteBuffer> OFF_HEAP = new ArrayBlockingQueue<>(4 * DEPTH);

        private final BlockingQueue<ByteBuffer> free = new ArrayBlockingQueue<>(DEPTH);
        private final List<ByteBuffer> offHeapBuffers = new ArrayList<>();
        private final BlockingQueue<Piece> full = new LinkedBlockingQueue<>();
        private final Future<?> reader;
        private volatile Throwable failure;
        private final java.util.concurrent.CountDownLatch finished = new java.util.concurrent.CountDownLatch(1);

        /** @param offHeap direct buffers (for plain runs only: decoders and checksums work on heap arrays) */
        ReadAhead(List<TensorEntry> tensors, Map<String, Source> sources, Configuration conf, boolean offHeap) {
            for (int i = 0; i < DEPTH; i++) {
                if (offHeap) {
                    ByteBuffer kept = OFF_HEAP.poll();
                    offHeapBuffers.add(kept != null ? kept : ByteBuffer.allocateDirect(COPY_BYTES));
                } else {
                    free.add(ByteBuffer.allocate(COPY_BYTES));
                }
            }
            free.addAll(offHeapBuffers);
            reader = POOL.submit(() -> {
                try {
                    read(tensors, sources, conf);
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    full.add(END);
                    finished.countDown();
                }
            });
        }

        private void read(List<TensorEntry> tensors, Map<String, Source> sources, Configuration conf)
                throws IOException, InterruptedException {
            String openFile = null;
            SeekableInput in = null;
            HadoopDecoderFiles otherFiles = new HadoopDecoderFiles(conf);
            try {
                for (int i = 0; i < tensors.size(); i++) {
                    full.add(new Piece(i, null));
                    for (Range r : sources.get(tensors.get(i).name()).ranges()) {
                        if (!r.file().equals(openFile)) {
                            if (in != null) {
                                in.close();
                            }
                            Path file = new Path(r.file());
                            in = HadoopInputFile.forData(file.getFileSystem(conf), file, r.fileLength())
                                    .open(ReadPolicy.SEQUENTIAL);
                            openFile = r.file();
                        }
                        if (r.decoder() != null) {
                            decode(i, r, in, otherFiles);
                            continue;
                        }
                        for (long done = 0; done < r.length(); ) {
                            ByteBuffer buffer = free.take();
                            int n = (int) Math.min(buffer.capacity(), r.length() - done);
                            buffer.clear().limit(n);
                            in.readFully(r.offset() + done, buffer);
                            full.add(new Piece(i, buffer.flip()));
                            done += n;
                        }
                    }
                }
            } finally {
                try {
                    otherFiles.close();
                } finally {
                    if (in != null) {
                        in.close();
                    }
                }
            }
        }

        /**
         * Decodes a tensor a buffer's worth of rows at a time. A row larger than a buffer, or a decoder that
         * cannot start mid-tensor, takes a buffer of its own for that piece.
         */
        private void decode(int tensor, Range r, SeekableInput in, HadoopDecoderFiles otherFiles)
                throws IOException, InterruptedException {
            long rowBytes = r.rows() == 0 ? 0 : r.length() / r.rows();
            long perPiece = !r.decoder().splittable() || rowBytes == 0 ? r.rows() : Math.max(1, COPY_BYTES / rowBytes);
            TensorDecoder.Check check = r.decoder().newCheck(); // pieces cover the whole tensor, in order
            for (long row = 0; row < r.rows(); row += perPiece) {
                long n = Math.min(perPiece, r.rows() - row);
                long bytes = n * rowBytes;
                if (bytes > ChunkPlanner.MAX_CHUNK_BYTES) {
                    throw new MalformedTensorFileException(
                            r.file(),
                            null,
                            "a tensor of " + r.length() + " bytes must be decoded whole, more than one buffer holds");
                }
                ByteBuffer buffer = bytes <= COPY_BYTES ? free.take() : ByteBuffer.allocate((int) bytes);
                buffer.clear().limit((int) bytes);
                r.decoder().decode(in, otherFiles, row, n, buffer);
                buffer.position(0).limit((int) bytes);
                if (check != null) {
                    check.update(buffer.array(), buffer.arrayOffset(), (int) bytes);
                }
                full.add(new Piece(tensor, buffer));
            }
            if (check != null) {
                check.finish();
            }
        }

        /** The next piece, or {@link #END}; rethrows the reader's failure. */
        Piece take() throws IOException {
            try {
                Piece p = full.take();
                if (p == END && failure != null) {
                    throw failure instanceof IOException io ? io : new IOException(failure.getMessage(), failure);
                }
                return p;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("Interrupted while copying tensor data");
            }
        }

        void recycle(ByteBuffer buffer) {
            if (buffer.capacity() == COPY_BYTES) {
                free.add(buffer); // buffers of their own, for one large piece, are left to the collector
            }
        }

        @Override
        public void close() {
            reader.cancel(true);
            boolean done = false;
            try {
                done = finished.await(30, java.util.concurrent.TimeUnit.SECONDS); // it closes its source on the way out
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (done) { // a reader still running could write into them: those are left to the collector
                for (ByteBuffer buffer : offHeapBuffers) {
                    OFF_HEAP.offer(buffer.clear());
                }
            }
        }
    }
}
