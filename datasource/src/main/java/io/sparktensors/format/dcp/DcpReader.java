package io.sparktensors.format.dcp;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.DType;
import io.sparktensors.format.FormatReader;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorData;
import io.sparktensors.format.TensorListing;
import io.sparktensors.format.pytorch.DcpMetadata;
import io.sparktensors.format.pytorch.DcpMetadata.Chunk;
import io.sparktensors.format.pytorch.DcpMetadata.Storage;
import io.sparktensors.format.pytorch.DcpMetadata.TensorItem;
import io.sparktensors.format.pytorch.PyTorchReader;
import io.sparktensors.format.pytorch.StorageViewDecoder;
import io.sparktensors.io.FolderFiles;
import io.sparktensors.io.InputFile;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Lists a {@code torch.distributed.checkpoint} (DCP) checkpoint, as FSDP, torchtitan, Megatron-Core and NeMo 2
 * save it: a folder holding {@code .metadata} (the file this reader is given) and rank files
 * ({@code __<rank>_<n>.distcp}), each chunk of a tensor a {@code torch.save} archive at an offset of one.
 *
 * <p>Every tensor of {@code state_dict_metadata} is listed as one full tensor, named by its FQN
 * ({@code model.layers.0.attn.q.weight}, {@code optim.state.w.exp_avg}). Its chunks may split it along any
 * dimensions ({@code Shard(0)} runs of rows, {@code Shard(1)} strided pieces, blocks of a 2-D mesh); a tensor
 * stored whole in one chunk is a plain byte range, any other is assembled by a {@link ChunkAssemblyDecoder}
 * from the chunks' byte ranges, row by row. Bytes items (non-tensor values) are skipped and named in
 * {@link TensorListing#skipped()}, as are tensors of dtypes safetensors lacks and chunks stored with
 * transforms (compression).
 *
 * <p>Everything {@code .metadata} says is checked before it is used: every chunk lies inside its tensor, the
 * chunks cover it exactly once (no overlap, no gap), each chunk has a stored range inside a file of the
 * folder ({@link FolderFiles} refuses paths leaving it), and that range is a {@code torch.save} archive
 * (checked by the {@link PyTorchReader} in its strict mode) holding exactly the chunk: its dtype and shape,
 * dtype * elements bytes, as a plain byte range or a strided view of its storage (a transposed or
 * channels_last shard, which torch.save keeps as it is). Each fault is a
 * {@link MalformedTensorFileException} naming the file, the tensor and the fault.
 */
public final class DcpReader implements FormatReader {
    /** The format name. */
    public static final String NAME = "dcp";
    /** The name of a DCP checkpoint's metadata file. */
    public static final String METADATA = ".metadata";
    /** The suffix of DCP rank files. */
    public static final String RANK_FILE_SUFFIX = ".distcp";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public TensorListing list(InputFile file, FolderFiles folder, ReadLimits limits) throws IOException {
        String location = file.location();
        if (location.endsWith(RANK_FILE_SUFFIX)) {
            throw new MalformedTensorFileException(
                    location,
                    null,
                    "it is a DCP rank file, which only its folder's " + METADATA
                            + " describes. Read the checkpoint folder (the one holding " + METADATA + ").");
        }
        byte[] pickle = readMetadata(file, limits);
        DcpMetadata metadata = DcpMetadata.parse(location, pickle, limits);
        List<String> skipped = new ArrayList<>();
        for (String name : metadata.bytesItems()) {
            skipped.add(name + ": a bytes item (a non-tensor value DCP pickled)");
        }
        List<StoredTensor> tensors = new ArrayList<>();
        for (Located l : locateAll(location, metadata, folder, limits)) {
            skipped.addAll(l.skipped());
            if (l.tensor() != null) {
                tensors.add(l.tensor());
            }
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", NAME);
        return new TensorListing(location, tensors, meta, skipped);
    }

    /** Threads that read chunks' archives while listing: each read is a small ranged read, mostly waiting. */
    static final int LISTING_THREADS = 8;

    /** A listed tensor (null when skipped) and what it skipped, in the order of {@code state_dict_metadata}. */
    private record Located(StoredTensor tensor, List<String> skipped) {}

    /**
     * Finds every tensor's chunks, {@link #LISTING_THREADS} tensors at a time (a checkpoint of many ranks has
     * tens of thousands of chunks, each an archive to check with a ranged read: on object stores, one after
     * another, that is minutes), each thread with its own open rank files, as object store streams serve one
     * read at a time. Results, and the first fault, come in the metadata's order, as one thread would give them.
     */
    private static List<Located> locateAll(String location, DcpMetadata metadata, FolderFiles folder, ReadLimits limits)
            throws IOException {
        List<TensorItem> items = metadata.tensors();
        int threads = Math.min(LISTING_THREADS, items.size());
        List<RankFiles> opened = Collections.synchronizedList(new ArrayList<>());
        ThreadLocal<RankFiles> ranks = ThreadLocal.withInitial(() -> {
            RankFiles r = new RankFiles(location, folder);
            opened.add(r);
            return r;
        });
        AtomicInteger id = new AtomicInteger();
        ExecutorService pool = threads <= 1
                ? null
                : Executors.newFixedThreadPool(threads, r -> {
                    Thread t = new Thread(r, "spark-tensors-dcp-listing-" + id.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        try {
            List<Callable<Located>> tasks = new ArrayList<>(items.size());
            for (TensorItem item : items) {
                tasks.add(() -> {
                    List<String> skipped = new ArrayList<>();
                    StoredTensor t = tensor(location, item, metadata, ranks.get(), limits, skipped);
                    return new Located(t, skipped);
                });
            }
            List<Located> out = new ArrayList<>(items.size());
            if (pool == null) {
                for (Callable<Located> task : tasks) {
                    out.add(call(task));
                }
                return out;
            }
            List<Future<Located>> futures = new ArrayList<>(tasks.size());
            for (Callable<Located> task : tasks) {
                futures.add(pool.submit(task));
            }
            for (Future<Located> f : futures) {
                out.add(result(f));
            }
            return out;
        } finally {
            if (pool != null) {
                pool.shutdownNow();
                try {
                    pool.awaitTermination(1, TimeUnit.MINUTES); // its threads use the rank files closed below
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            IOException first = null;
            for (RankFiles r : opened) {
                try {
                    r.close();
                } catch (IOException e) {
                    first = first == null ? e : first;
                }
            }
            if (first != null) {
                throw first;
            }
        }
    }

    private static Located call(Callable<Located> task) throws IOException {
        try {
            return task.call();
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    private static Located result(Future<Located> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("Interrupted while listing a DCP checkpoint's chunks");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IOException(cause);
        }
    }

    private static byte[] readMetadata(InputFile file, ReadLimits limits) throws IOException {
        long length = file.length();
        if (length > limits.maxHeaderBytes()) {
            throw new MalformedTensorFileException(
                    file.location(),
                    null,
                    "it is " + length + " bytes, more than" + " maxHeaderBytes (" + limits.maxHeaderBytes()
                            + "). Raise maxHeaderBytes to read it.");
        }
        byte[] bytes = new byte[(int) length];
        try (SeekableInput in = file.open(ReadPolicy.RANDOM)) {
            in.readFully(0, bytes, 0, bytes.length);
        }
        return bytes;
    }

    /** The listed tensor, or null when it is skipped (and said why in {@code skipped}). */
    private static StoredTensor tensor(
            String location,
            TensorItem item,
            DcpMetadata metadata,
            RankFiles ranks,
            ReadLimits limits,
            List<String> skipped)
            throws IOException {
        String fqn = item.fqn();
        if (item.dtype() == null) {
            skipped.add(fqn + ": " + item.unsupported());
            return null;
        }
        if (item.dtype().bits() % 8 != 0) {
            skipped.add(fqn + ": " + item.dtype() + " packs several elements per byte, which chunks cannot split");
            return null;
        }
        long[] shape = item.size();
        List<Chunk> chunks = new ArrayList<>(item.chunks());
        checkCover(location, fqn, shape, chunks);
        chunks.sort(ROW_MAJOR);
        List<ChunkAssemblyDecoder.Piece> pieces = new ArrayList<>();
        for (Chunk c : chunks) {
            Storage s = metadata.storage(fqn, c.offsets());
            if (s == null) {
                throw fault(
                        location,
                        fqn,
                        "its chunk at " + Arrays.toString(c.offsets()) + " has no entry in"
                                + " storage_data, so its bytes are nowhere. The checkpoint is incomplete; save it again.");
            }
            if (!s.transforms().isEmpty()) {
                skipped.add(fqn + ": stored with transforms " + s.transforms() + " (compression), which are not read");
                return null;
            }
            pieces.add(locate(location, item, c, s, ranks, limits));
        }
        return assembled(location, fqn, item.dtype(), shape, pieces);
    }

    /**
     * The full tensor the pieces (covering it exactly once, in row-major order of their offsets) make: a byte
     * range or a view of its storage when one piece holds it whole, else assembled by a
     * {@link ChunkAssemblyDecoder}.
     */
    static StoredTensor assembled(
            String location, String fqn, DType dtype, long[] shape, List<ChunkAssemblyDecoder.Piece> pieces) {
        long bytes = dtype.byteSize(elements(shape));
        ChunkAssemblyDecoder.Piece first = pieces.isEmpty() ? null : pieces.get(0);
        if (first == null) { // a tensor of no elements stored in no chunk
            return new StoredTensor(fqn, dtype, shape, TensorData.plain(location, 0, 0, 0));
        }
        if (pieces.size() == 1) { // stored whole: a byte range, or a view of its storage
            return new StoredTensor(
                    fqn,
                    dtype,
                    shape,
                    first.view() == null
                            ? TensorData.plain(first.location(), first.fileLength(), first.dataOffset(), bytes)
                            : new TensorData(
                                    first.location(), first.fileLength(), first.dataOffset(), bytes, first.view()));
        }
        ChunkAssemblyDecoder decoder = new ChunkAssemblyDecoder(fqn, dtype.bits() / 8, shape, first.location(), pieces);
        return new StoredTensor(
                fqn,
                dtype,
                shape,
                new TensorData(first.location(), first.fileLength(), first.dataOffset(), bytes, decoder));
    }

    /**
     * Most pairs of chunks compared for overlap per tensor: a tensor split along dimension 1 into N chunks
     * takes N^2/2 (8192 ranks: 34 million); only hostile metadata needs more.
     */
    static final long MAX_CHUNK_COMPARISONS = 100_000_000L;

    /** Chunks in row-major order of their first index, so the chunk holding row 0 comes first. */
    static final Comparator<Chunk> ROW_MAJOR = (a, b) -> Arrays.compare(a.offsets(), b.offsets());

    /**
     * Checks that every chunk lies inside the tensor and that together they cover it exactly once: no two
     * overlap and their elements add up to the tensor's.
     */
    static void checkCover(String location, String fqn, long[] shape, List<Chunk> chunks)
            throws MalformedTensorFileException {
        checkCover(
                location,
                fqn,
                shape,
                chunks,
                "The metadata is corrupt or hostile.",
                "The checkpoint is incomplete or" + " its metadata corrupt.");
    }

    /**
     * {@link #checkCover(String, String, long[], List)}, ending each fault with {@code corrupt} (a chunk outside,
     * an overlap) or {@code incomplete} (elements stored nowhere).
     */
    static void checkCover(
            String location, String fqn, long[] shape, List<Chunk> chunks, String corrupt, String incomplete)
            throws MalformedTensorFileException {
        long total;
        try {
            total = elements(shape);
        } catch (ArithmeticException e) {
            throw fault(location, fqn, "its size " + Arrays.toString(shape) + " has more elements than a long holds");
        }
        long covered = 0;
        for (Chunk c : chunks) {
            long[] offsets = c.offsets();
            long[] sizes = c.sizes();
            if (offsets.length != shape.length || sizes.length != shape.length) {
                throw fault(location, fqn, "its chunk " + c + " has not the tensor's " + shape.length + " dimensions");
            }
            for (int d = 0; d < shape.length; d++) {
                if (offsets[d] > shape[d] || sizes[d] > shape[d] - offsets[d]) {
                    throw fault(
                            location,
                            fqn,
                            "its chunk " + c + " lies outside the tensor of size " + Arrays.toString(shape)
                                    + " (dimension " + d + "). " + corrupt);
                }
            }
            covered += elements(sizes); // no overflow: each chunk is inside the tensor, checked below to be disjoint
        }
        List<Chunk> sorted = new ArrayList<>(chunks);
        sorted.sort(Comparator.comparingLong(c -> c.offsets().length == 0 ? 0 : c.offsets()[0]));
        long comparisons = 0;
        for (int i = 0; i < sorted.size(); i++) {
            Chunk a = sorted.get(i);
            for (int j = i + 1; j < sorted.size(); j++) {
                Chunk b = sorted.get(j);
                if (shape.length > 0 && b.offsets()[0] >= a.offsets()[0] + a.sizes()[0]) {
                    break; // b and every later chunk start below a's last row
                }
                if (++comparisons > MAX_CHUNK_COMPARISONS) {
                    throw fault(
                            location,
                            fqn,
                            "its " + chunks.size() + " chunks share rows so much that checking them for"
                                    + " overlap takes more than " + MAX_CHUNK_COMPARISONS
                                    + " comparisons; no real checkpoint needs"
                                    + " as many. " + corrupt);
                }
                if (overlap(a, b)) {
                    throw fault(
                            location,
                            fqn,
                            "its chunks " + a + " and " + b + " overlap: some elements are stored" + " twice. "
                                    + corrupt);
                }
            }
        }
        if (covered != total) {
            throw fault(
                    location,
                    fqn,
                    "its chunks hold " + covered + " of its " + total + " elements (size "
                            + Arrays.toString(shape)
                            + "): some elements are stored nowhere. " + incomplete);
        }
    }

    private static boolean overlap(Chunk a, Chunk b) {
        long[] ao = a.offsets();
        long[] as = a.sizes();
        long[] bo = b.offsets();
        long[] bs = b.sizes();
        for (int d = 0; d < ao.length; d++) {
            if (as[d] == 0 || bs[d] == 0 || ao[d] + as[d] <= bo[d] || bo[d] + bs[d] <= ao[d]) {
                return false;
            }
        }
        return true;
    }

    static long elements(long[] dims) {
        long n = 1;
        for (long d : dims) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /**
     * Finds a chunk's bytes: checks its stored range against its rank file, lists the {@code torch.save}
     * archive there and checks that it holds the chunk, a plain range of dtype * elements bytes.
     */
    private static ChunkAssemblyDecoder.Piece locate(
            String location, TensorItem item, Chunk c, Storage s, RankFiles ranks, ReadLimits limits)
            throws IOException {
        String fqn = item.fqn();
        RankFile rank = ranks.get(fqn, s.relativePath());
        if (s.offset() > rank.length || s.length() > rank.length - s.offset()) {
            throw fault(
                    location,
                    fqn,
                    "its chunk at " + Arrays.toString(c.offsets()) + " is stored at bytes "
                            + s.offset() + "+" + s.length() + " of '" + rank.location + "', which has only "
                            + rank.length
                            + ". The rank file is truncated or the metadata corrupt.");
        }
        String embedded = rank.location + " (the chunk of '" + MalformedTensorFileException.printable(fqn) + "' at "
                + Arrays.toString(c.offsets()) + ", bytes " + s.offset() + "+" + s.length() + ")";
        TensorListing listing;
        try {
            listing = new PyTorchReader(false)
                    .list(
                            new Slice(embedded, rank.input, s.offset(), s.length()),
                            (referrer, name) -> {
                                throw FolderFiles.outside(referrer, name);
                            },
                            limits);
        } catch (EOFException e) {
            throw fault(
                    location, fqn, "its chunk at " + Arrays.toString(c.offsets()) + " is cut short: " + e.getMessage());
        }
        if (listing.tensors().size() != 1) {
            throw fault(
                    location,
                    fqn,
                    "the archive of its chunk at " + Arrays.toString(c.offsets()) + " in '" + rank.location + "' holds "
                            + listing.tensors().size() + " tensors, not one");
        }
        StoredTensor t = listing.tensors().get(0);
        long expected = item.dtype().byteSize(elements(c.sizes()));
        if (t.dtype() != item.dtype()
                || !Arrays.equals(t.shape(), c.sizes())
                || t.data().length() != expected) {
            throw fault(
                    location,
                    fqn,
                    "its chunk at " + Arrays.toString(c.offsets()) + " in '" + rank.location
                            + "' holds " + t.dtype() + Arrays.toString(t.shape()) + " ("
                            + t.data().length() + " bytes), where the"
                            + " metadata says " + item.dtype() + Arrays.toString(c.sizes()) + " (" + expected
                            + " bytes). The"
                            + " metadata does not describe this rank file.");
        }
        if (t.data().isPlain()) {
            return new ChunkAssemblyDecoder.Piece(
                    rank.location, rank.length, s.offset() + t.data().offset(), c.offsets(), c.sizes(), null);
        }
        if (!(t.data().decoder() instanceof StorageViewDecoder v)) {
            throw fault(
                    location,
                    fqn,
                    "its chunk at " + Arrays.toString(c.offsets()) + " in '" + rank.location
                            + "' is not a dense tensor view. Save the checkpoint again.");
        }
        // A strided view (a transposed or channels_last shard), its storage moved from the archive to the rank file.
        StorageViewDecoder view = new StorageViewDecoder(
                rank.location,
                fqn,
                s.offset() + v.storageOffset(),
                v.storageBytes(),
                v.elementSize(),
                v.swapUnit(),
                v.offset(),
                v.size(),
                v.stride());
        return new ChunkAssemblyDecoder.Piece(
                rank.location, rank.length, view.storageOffset(), c.offsets(), c.sizes(), view);
    }

    private static MalformedTensorFileException fault(String location, String fqn, String why) {
        return new MalformedTensorFileException(location, fqn, why);
    }

    /** A rank file, open once for the whole listing. */
    private record RankFile(String location, long length, SeekableInput input) {}

    /** The rank files met so far, resolved inside the checkpoint's folder and open; closed at the end. */
    private static final class RankFiles implements AutoCloseable {
        private final String metadata;
        private final FolderFiles folder;
        private final Map<String, RankFile> open = new HashMap<>();

        RankFiles(String metadata, FolderFiles folder) {
            this.metadata = metadata;
            this.folder = folder;
        }

        RankFile get(String fqn, String relativePath) throws IOException {
            RankFile f = open.get(relativePath);
            if (f == null) {
                InputFile file;
                try {
                    file = folder.resolve(metadata, relativePath);
                } catch (MalformedTensorFileException e) {
                    throw new MalformedTensorFileException(
                            metadata,
                            fqn,
                            "its chunk is stored in '"
                                    + MalformedTensorFileException.printable(relativePath)
                                    + "', which is not inside the checkpoint's"
                                    + " folder; only files beside .metadata are read. The metadata is corrupt or hostile.",
                            e);
                } catch (FileNotFoundException e) {
                    throw new MalformedTensorFileException(
                            metadata,
                            fqn,
                            "its chunk is stored in the rank file '"
                                    + MalformedTensorFileException.printable(relativePath)
                                    + "', which does not exist. Copy the whole"
                                    + " checkpoint folder.",
                            e);
                }
                f = new RankFile(file.location(), file.length(), file.open(ReadPolicy.RANDOM));
                open.put(relativePath, f);
            }
            return f;
        }

        @Override
        public void close() throws IOException {
            IOException first = null;
            for (RankFile f : open.values()) {
                try {
                    f.input.close();
                } catch (IOException e) {
                    first = first == null ? e : first;
                }
            }
            if (first != null) {
                throw first;
            }
        }
    }

    /**
     * The range of an open file holding one chunk's {@code torch.save} archive, as a file of its own. Small reads
     * are served from two windows of {@link #WINDOW_BYTES} (the archive's head, with its pickle, and its tail,
     * with the zip directory), so a chunk costs about two reads of its rank file, not one per zip structure.
     */
    private record Slice(String location, SeekableInput file, long offset, long length) implements InputFile {
        @Override
        public SeekableInput open(ReadPolicy policy) {
            return new SeekableInput() {
                private final byte[][] windows = new byte[2][];
                private final long[] starts = new long[2];
                private int last;

                @Override
                public void readFully(long position, byte[] buffer, int off, int len) throws IOException {
                    check(position, len);
                    if (len > WINDOW_BYTES / 2) {
                        file.readFully(offset + position, buffer, off, len);
                        return;
                    }
                    int w = window(position, len);
                    System.arraycopy(windows[w], (int) (position - starts[w]), buffer, off, len);
                }

                /** The window holding {@code [position, position + len)}, loading it into the older one if none does. */
                private int window(long position, int len) throws IOException {
                    for (int w = 0; w < 2; w++) {
                        if (windows[w] != null
                                && position >= starts[w]
                                && position + len <= starts[w] + windows[w].length) {
                            last = w;
                            return w;
                        }
                    }
                    int w = 1 - last;
                    long start = Math.max(0, Math.min(position, length - WINDOW_BYTES));
                    byte[] bytes = new byte[(int) Math.min(WINDOW_BYTES, length - start)];
                    file.readFully(offset + start, bytes, 0, bytes.length);
                    windows[w] = bytes;
                    starts[w] = start;
                    last = w;
                    return w;
                }

                @Override
                public void readFully(long position, ByteBuffer dst) throws IOException {
                    check(position, dst.remaining());
                    if (dst.remaining() > WINDOW_BYTES / 2) {
                        file.readFully(offset + position, dst);
                        return;
                    }
                    int len = dst.remaining();
                    int w = window(position, len);
                    dst.put(windows[w], (int) (position - starts[w]), len);
                }

                private void check(long position, long wanted) throws EOFException {
                    if (position < 0 || position > length || wanted > length - position) {
                        throw SeekableInput.unexpectedEnd(location, position, wanted);
                    }
                }

                @Override
                public void close() {} // the rank file stays open for the next chunk
            };
        }
    }

    /** Bytes of a chunk's archive read at once for its small structures. */
    static final int WINDOW_BYTES = 8 << 10;
}
