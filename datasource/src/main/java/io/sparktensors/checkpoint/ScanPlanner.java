package io.sparktensors.checkpoint;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.errors.TensorErrors;
import io.sparktensors.format.FormatReader;
import io.sparktensors.format.ReaderSettings;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorListing;
import io.sparktensors.format.dcp.DTensorRanksReader;
import io.sparktensors.format.dcp.DcpSafetensorsShards;
import io.sparktensors.io.CountingInputFile;
import io.sparktensors.io.FileEntry;
import io.sparktensors.io.FileStore;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plans a scan from headers alone, engine-free: resolves paths (files, folders, globs, Hugging Face index
 * folders) into checkpoint files of the scan's format (or of the format each name marks), lists every file
 * in parallel (a safetensors header takes at most two ranged reads), checks index folders against their
 * shards, drops tensors the predicate excludes, chunks large tensors and packs the chunks into read splits,
 * grouped by the file that holds their bytes, each with the hosts that hold most of its bytes. One planner
 * plans one scan; it runs on the driver.
 */
public final class ScanPlanner {
    private static final Logger LOG = LoggerFactory.getLogger(ScanPlanner.class);
    /** An index is JSON of a few bytes per tensor; anything larger than this is refused unread. */
    private static final long MAX_INDEX_BYTES = 256L << 20;
    /** Preferred hosts per split, as Spark's file sources give. */
    private static final int MAX_HOSTS = 3;

    /**
     * A file to plan, its format, and the index folder it belongs to (null for a file named on its own); for a
     * set of per-rank DTensor files, rank 0's file with the names of every rank's file (else null).
     */
    private record Candidate(FileEntry entry, CheckpointFormat format, IndexGroup group, List<String> rankFiles) {
        Candidate(FileEntry entry, CheckpointFormat format, IndexGroup group) {
            this(entry, format, group, null);
        }
    }

    /** An index and its folder's listing, so missing shards are found without a request per shard. */
    private static final class IndexGroup {
        final HfIndex index;
        final Map<String, Set<String>> shardTensors = new HashMap<>();
        final Set<String> skipped = new HashSet<>();

        IndexGroup(HfIndex index) {
            this.index = index;
        }
    }

    private final List<String> paths;
    private final ScanOptions options;
    private final FileStore store;
    /** Index folders met while resolving paths, by index path. */
    private final Map<String, IndexGroup> groups = new LinkedHashMap<>();

    public ScanPlanner(List<String> paths, ScanOptions options, FileStore store) {
        this.paths = List.copyOf(paths);
        this.options = options;
        this.store = store;
    }

    /**
     * Resolves the paths and lists every file (in parallel), checking index folders against their shards.
     * Files skipped under ignoreCorruptFiles / ignoreMissingFiles are left out.
     */
    public List<ListedFile> listings() throws IOException {
        List<Candidate> candidates = resolve();
        List<ListedFile> listed = listAll(candidates);
        List<ListedFile> out = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            ListedFile f = listed.get(i);
            Candidate c = candidates.get(i);
            String shardName = c.entry.name();
            if (f == null) {
                if (c.group != null) {
                    c.group.skipped.add(shardName);
                }
                continue;
            }
            if (c.group != null) {
                c.group.shardTensors.put(shardName, indexedNames(f.listing()));
            }
            List<String> skipped = f.listing().skipped();
            if (!skipped.isEmpty()) {
                LOG.info(
                        "{}: skipped {} values that are not tensors: {}",
                        f.file().location(),
                        skipped.size(),
                        skipped.subList(0, Math.min(20, skipped.size())));
            }
            out.add(f);
        }
        verifyIndexes();
        return consolidatePieces(out);
    }

    /**
     * The piece files of DCP's Hugging Face storage (safetensors files whose metadata places each tensor in a
     * larger one) become one listing of full tensors; other files are left as they are.
     */
    private static List<ListedFile> consolidatePieces(List<ListedFile> files) throws IOException {
        List<ListedFile> pieces = new ArrayList<>();
        List<ListedFile> out = new ArrayList<>();
        for (ListedFile f : files) {
            (f.format() == CheckpointFormat.SAFETENSORS && DcpSafetensorsShards.isPieceFile(f.listing()) ? pieces : out)
                    .add(f);
        }
        if (pieces.isEmpty()) {
            return files;
        }
        TensorListing merged = DcpSafetensorsShards.consolidate(
                pieces.stream().map(ListedFile::listing).toList());
        long bytes = pieces.stream().mapToLong(ListedFile::bytesRead).sum();
        long reads = pieces.stream().mapToLong(ListedFile::reads).sum();
        ListedFile first = pieces.get(0);
        ShardFile file = new ShardFile(first.file().location(), first.file().length(), merged.metadata());
        out.add(0, new ListedFile(file, first.format(), merged, bytes, reads));
        return out;
    }

    /**
     * Plans the read splits of the tensors {@code predicate} keeps.
     *
     * @param readData whether tensor bytes are read (else only the header columns, and no locality is looked up)
     * @param parallelism the cores to spread over
     */
    public ScanPlan plan(TensorPredicate predicate, boolean readData, int parallelism) throws IOException {
        List<FileSlice> slices = new ArrayList<>();
        long tensors = 0;
        long headerBytes = 0;
        long headerReads = 0;
        List<ListedFile> files = listings();
        for (ListedFile f : files) {
            headerBytes += f.bytesRead();
            headerReads += f.reads();
            // Chunks go to the file holding their bytes (a TF data shard, ONNX external data), in offset order.
            Map<String, List<TensorChunk>> byFile = new LinkedHashMap<>();
            Map<String, Long> lengths = new HashMap<>();
            for (StoredTensor t : f.listing().tensors()) {
                String location = t.data().location();
                if (predicate.test(t.name(), t.dtype().code(), location)) {
                    tensors++;
                    byFile.computeIfAbsent(location, k -> new ArrayList<>())
                            .addAll(ChunkPlanner.chunks(t, options.maxChunkBytes()));
                    lengths.put(location, t.data().fileLength());
                }
            }
            for (Map.Entry<String, List<TensorChunk>> e : byFile.entrySet()) {
                List<TensorChunk> chunks = e.getValue();
                chunks.sort(Comparator.comparingLong(TensorChunk::offset)); // stable: chunks stay in order
                slices.add(new FileSlice(
                        new ShardFile(
                                e.getKey(), lengths.get(e.getKey()), f.listing().metadata()),
                        chunks));
            }
        }
        Map<String, List<FileStore.BlockHosts>> blocks = new HashMap<>();
        long splitBytes = options.maxPartitionBytes();
        if (readData && splitBytes != options.blockPartitionBytes() && !slices.isEmpty()) {
            // storage with locality (HDFS): splits of about a block, each read on a host that holds it
            if (!blockHosts(slices.get(0).file(), blocks).isEmpty()) {
                splitBytes = options.blockPartitionBytes();
            }
        }
        List<ReadSplit> splits = SplitPlanner.plan(slices, readData, splitBytes, options.openCostBytes(), parallelism);
        if (readData) {
            splits = withHosts(splits, blocks);
        }
        return new ScanPlan(splits, files.size(), tensors, headerBytes, headerReads);
    }

    /**
     * Each split with the hosts holding most of its bytes, by the file system's block locations (one request
     * per file; none where storage reports no locality).
     */
    private List<ReadSplit> withHosts(List<ReadSplit> splits, Map<String, List<FileStore.BlockHosts>> blocks)
            throws IOException {
        List<ReadSplit> out = new ArrayList<>(splits.size());
        for (ReadSplit split : splits) {
            Map<String, Long> bytesOnHost = new HashMap<>();
            for (FileSlice slice : split.slices()) {
                List<FileStore.BlockHosts> fileBlocks = blockHosts(slice.file(), blocks);
                for (TensorChunk c : slice.chunks()) {
                    for (FileStore.BlockHosts b : fileBlocks) {
                        long overlap = Math.min(b.offset() + b.length(), c.offset() + c.length())
                                - Math.max(b.offset(), c.offset());
                        if (overlap > 0) {
                            b.hosts().forEach(h -> bytesOnHost.merge(h, overlap, Long::sum));
                        }
                    }
                }
            }
            List<String> hosts = bytesOnHost.entrySet().stream()
                    .sorted(Map.Entry.<String, Long>comparingByValue()
                            .reversed()
                            .thenComparing(Map.Entry.comparingByKey()))
                    .limit(MAX_HOSTS)
                    .map(Map.Entry::getKey)
                    .toList();
            out.add(split.withHosts(hosts));
        }
        return out;
    }

    /** A file's block locations, asked of the storage once per file. */
    private List<FileStore.BlockHosts> blockHosts(ShardFile file, Map<String, List<FileStore.BlockHosts>> blocks)
            throws IOException {
        List<FileStore.BlockHosts> fileBlocks = blocks.get(file.location());
        if (fileBlocks == null) {
            fileBlocks = store.blockHosts(new FileEntry(file.location(), file.location(), file.length(), false));
            blocks.put(file.location(), fileBlocks);
        }
        return fileBlocks;
    }

    /**
     * The names an index may list for a file: its tensors, and the names a reader dropped for sharing another
     * tensor's storage (recorded in the metadata as dropped name to kept name, as safetensors' converter does).
     */
    private static Set<String> indexedNames(TensorListing listing) {
        Set<String> names = new HashSet<>();
        listing.tensors().forEach(t -> names.add(t.name()));
        listing.metadata().forEach((k, v) -> {
            if (names.contains(v)) {
                names.add(k);
            }
        });
        return names;
    }

    private void verifyIndexes() throws MalformedTensorFileException {
        for (IndexGroup g : groups.values()) {
            List<String> unlisted = g.index.verify(g.shardTensors, g.skipped);
            if (!unlisted.isEmpty()) {
                LOG.warn(
                        "{} tensors in the shards of {} are not listed in its weight_map (they are read too): {}",
                        unlisted.size(),
                        g.index.location(),
                        unlisted.subList(0, Math.min(20, unlisted.size())));
            }
        }
    }

    /** Expands the paths into the files to plan, in a stable order, each once. */
    private List<Candidate> resolve() throws IOException {
        Map<String, Candidate> out = new LinkedHashMap<>();
        Set<String> named = new HashSet<>(); // files a path names alone: a rank file so named lists its local shards
        for (String p : paths) {
            List<FileEntry> matches = new ArrayList<>(store.glob(p));
            if (matches.isEmpty()) {
                throw TensorErrors.pathNotFound(store.qualify(p));
            }
            // Folders and indexes first, so shards a glob also matches join their index's checks.
            matches.sort(Comparator.comparing((FileEntry e) -> !(e.directory() || isIndex(e.name())))
                    .thenComparing(FileEntry::path));
            for (FileEntry entry : matches) {
                if (entry.directory()) {
                    expandFolder(entry, out);
                } else if (isIndex(entry.name())) {
                    expandIndex(entry, store.list(store.parent(entry.path())), formatOf(entry.name()), out);
                } else if (matches.size() == 1
                        || options.format() != null
                        || CheckpointFormat.detect(entry.name()) != null) {
                    out.putIfAbsent(entry.path(), new Candidate(entry, formatOf(entry), null));
                    if (matches.size() == 1) {
                        named.add(entry.path());
                    }
                }
            }
        }
        return rankSets(new ArrayList<>(out.values()), named);
    }

    /**
     * verl and SkyRL save optimizer and extra state per rank beside the model's files ({@code optim_world_size_N_rank_R.pt},
     * {@code extra_state_...}): where a folder holds several sets of rank files and one is the model's
     * ({@code model_world_size_...}), only that one is read, the others skipped (and logged) unless named
     * themselves. Removes the skipped sets from {@code sets}, marking their candidates dropped.
     */
    private void besideModel(Map<String, List<Candidate>> sets, Set<String> named, Map<Candidate, Candidate> replaced) {
        Map<String, List<String>> byFolder = new LinkedHashMap<>();
        sets.forEach((key, set) -> byFolder.computeIfAbsent(
                        store.parent(set.get(0).entry.path()), k -> new ArrayList<>())
                .add(key));
        for (List<String> keys : byFolder.values()) {
            boolean hasModel =
                    keys.stream().anyMatch(k -> sets.get(k).get(0).entry.name().startsWith(MODEL_RANK_FILES));
            if (keys.size() < 2 || !hasModel) {
                continue;
            }
            for (String k : keys) {
                List<Candidate> set = sets.get(k);
                boolean isNamed = set.stream().anyMatch(c -> named.contains(c.entry.path()));
                if (!set.get(0).entry.name().startsWith(MODEL_RANK_FILES) && !isNamed) {
                    LOG.info(
                            "Skipping the rank files {} beside the model's (read them by naming them, e.g. with a glob)",
                            DTensorRanksReader.rankName(set.get(0).entry.name()).set());
                    set.forEach(c -> replaced.put(c, null));
                    sets.remove(k);
                }
            }
        }
    }

    /** The start of the names of the model's rank files in a per-rank save. */
    private static final String MODEL_RANK_FILES = "model_world_size_";

    /**
     * PyTorch files named as the ranks of one distributed save ({@code model_world_size_4_rank_0.pt} ...), outside
     * an index, become one candidate: rank 0's file, read with every rank's by a {@link DTensorRanksReader} into
     * full tensors. Every rank's file must be there; a rank file named alone as the path is left to list its own
     * local shards.
     */
    private List<Candidate> rankSets(List<Candidate> candidates, Set<String> named) throws IOException {
        Map<String, List<Candidate>> sets = new LinkedHashMap<>();
        for (Candidate c : candidates) {
            DTensorRanksReader.RankName n = DTensorRanksReader.rankName(c.entry.name());
            if (c.format == CheckpointFormat.PYTORCH && c.group == null && n != null) {
                sets.computeIfAbsent(
                                store.parent(c.entry.path()) + "/" + n.set() + "/" + n.worldSize(),
                                k -> new ArrayList<>())
                        .add(c);
            }
        }
        if (sets.isEmpty()) {
            return candidates;
        }
        Map<Candidate, Candidate> replaced = new java.util.IdentityHashMap<>();
        besideModel(sets, named, replaced);
        for (List<Candidate> set : sets.values()) {
            if (set.size() == 1 && named.contains(set.get(0).entry.path())) {
                continue;
            }
            String any = set.get(0).entry.name();
            int world = DTensorRanksReader.rankName(any).worldSize();
            Candidate[] byRank = new Candidate[world];
            for (Candidate c : set) {
                byRank[DTensorRanksReader.rankName(c.entry.name()).rank()] = c;
            }
            List<String> names = new ArrayList<>();
            List<String> missing = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                String name = DTensorRanksReader.rankName(any).fileName(r, any);
                names.add(name);
                if (byRank[r] == null) {
                    missing.add(name);
                }
            }
            if (!missing.isEmpty()) {
                throw TensorErrors.missingRankFiles(
                        store.parent(set.get(0).entry.path()), world, missing.subList(0, Math.min(8, missing.size())));
            }
            Candidate rankSet = new Candidate(byRank[0].entry, CheckpointFormat.PYTORCH, null, names);
            set.forEach(c -> replaced.put(c, c == byRank[0] ? rankSet : null));
        }
        List<Candidate> out = new ArrayList<>();
        for (Candidate c : candidates) {
            if (!replaced.containsKey(c)) {
                out.add(c);
            } else if (replaced.get(c) != null) {
                out.add(replaced.get(c));
            }
        }
        return out;
    }

    /**
     * The scan's format; or, reading any format, the one the name marks, else the one the first bytes mark
     * ({@code last.ckpt} is a PyTorch file).
     */
    private CheckpointFormat formatOf(FileEntry file) throws IOException {
        if (options.format() == null && CheckpointFormat.detect(file.name()) == null) {
            CheckpointFormat sniffed = CheckpointFormat.sniff(start(file, CheckpointFormat.SNIFF_BYTES));
            if (sniffed == null) {
                throw TensorErrors.unknownFormat(file.name());
            }
            return sniffed;
        }
        return formatOf(file.name());
    }

    /** The scan's format, or the one the name marks when the scan reads any format. */
    private CheckpointFormat formatOf(String fileName) throws IOException {
        if (options.format() != null) {
            return options.format();
        }
        CheckpointFormat f = CheckpointFormat.detect(fileName);
        if (f == null) {
            throw TensorErrors.unknownFormat(fileName);
        }
        return f;
    }

    private boolean isIndex(String fileName) {
        CheckpointFormat f = options.format() != null ? options.format() : CheckpointFormat.detect(fileName);
        return f != null && f.isIndex(fileName);
    }

    /**
     * A folder: the format's index when there is one, else every file of the format in it. Reading any
     * format, the first format (in {@link CheckpointFormat} order) with files in the folder is read, so a
     * model saved as both safetensors and PyTorch files is read once.
     */
    private void expandFolder(FileEntry folder, Map<String, Candidate> out) throws IOException {
        List<FileEntry> children = store.list(folder.path());
        if (options.format() == null || options.format() == CheckpointFormat.DCP) {
            // A folder holding DCP's .metadata is a DCP checkpoint, whatever else it holds: .metadata stands for it.
            for (FileEntry child : children) {
                if (child.isFile() && child.name().equals(CheckpointFormat.DCP.nestedFile())) {
                    out.putIfAbsent(child.path(), new Candidate(child, CheckpointFormat.DCP, null));
                    return;
                }
            }
        }
        List<CheckpointFormat> formats =
                options.format() != null ? List.of(options.format()) : Arrays.asList(CheckpointFormat.values());
        for (CheckpointFormat format : formats) {
            if (format == CheckpointFormat.DCP) {
                continue; // read above, by its .metadata, or not at all
            }
            List<FileEntry> indexes = new ArrayList<>();
            List<FileEntry> tensorFiles = new ArrayList<>();
            for (FileEntry child : children) {
                String name = child.name();
                if (!child.isFile() || name.startsWith(".") || name.startsWith("_")) {
                    continue;
                }
                if (format.isIndex(name)) {
                    indexes.add(child);
                } else if (format.isDataFile(name)) {
                    tensorFiles.add(child);
                }
            }
            FileEntry index = indexes.stream()
                    .filter(e -> e.name().equals(format.defaultIndex()))
                    .findFirst()
                    .orElse(indexes.size() == 1 ? indexes.get(0) : null);
            if (index == null && indexes.size() > 1) {
                throw TensorErrors.severalIndexes(
                        folder.path(), indexes.stream().map(FileEntry::name).toList());
            }
            if (index != null) {
                expandIndex(index, children, format, out);
                return;
            }
            if (options.format() == null && format.namesAreAmbiguous()) { // no index to go by: tell them by their bytes
                List<FileEntry> ofFormat = new ArrayList<>();
                for (FileEntry f : tensorFiles) {
                    if (recognizes(f, format.reader(options.readers()))) {
                        ofFormat.add(f);
                    }
                }
                tensorFiles = ofFormat;
            }
            if (!tensorFiles.isEmpty()) {
                for (FileEntry f : tensorFiles) {
                    out.putIfAbsent(f.path(), new Candidate(f, format, null));
                }
                return;
            }
            FileEntry nested =
                    format.nestedFile() == null ? null : store.find(store.child(folder.path(), format.nestedFile()));
            if (nested != null && nested.isFile()) {
                out.putIfAbsent(nested.path(), new Candidate(nested, format, null));
                return;
            }
        }
        if (options.format() == null && addSniffed(children, out)) {
            return;
        }
        throw TensorErrors.emptyFolder(
                folder.path(),
                options.format() == null ? null : options.format().shortName());
    }

    /** Most files of a folder whose names mark no format that are told by their first bytes. */
    private static final int MAX_SNIFFED_FILES = 64;

    /**
     * A folder with no file any format's name marks: its files told by their first bytes ({@code last.ckpt},
     * {@code weights}), at most {@value #MAX_SNIFFED_FILES} of them, one small read each. Returns whether any was.
     */
    private boolean addSniffed(List<FileEntry> children, Map<String, Candidate> out) throws IOException {
        int sniffed = 0;
        boolean found = false;
        for (FileEntry child : children) {
            String name = child.name();
            if (!child.isFile()
                    || name.startsWith(".")
                    || name.startsWith("_")
                    || child.length() < 4
                    || CheckpointFormat.detect(name) != null
                    || sniffed++ >= MAX_SNIFFED_FILES) {
                continue;
            }
            CheckpointFormat format = CheckpointFormat.sniff(start(child, CheckpointFormat.SNIFF_BYTES));
            if (format != null) {
                out.putIfAbsent(child.path(), new Candidate(child, format, null));
                found = true;
            }
        }
        return found;
    }

    /**
     * Whether a file whose name fits several formats is of the reader's format by its first bytes (a
     * {@code .bin} beside an ONNX model holds its external data, not a PyTorch checkpoint); one small read.
     */
    private boolean recognizes(FileEntry file, FormatReader reader) throws IOException {
        int wanted = reader.recognitionBytes();
        return wanted == 0 || reader.recognizes(start(file, wanted));
    }

    /** The first bytes of a file (fewer when it is shorter). */
    private byte[] start(FileEntry file, int wanted) throws IOException {
        byte[] start = new byte[(int) Math.min(wanted, file.length())];
        try (SeekableInput in = store.open(file).open(ReadPolicy.RANDOM)) {
            in.readFully(0, start, 0, start.length);
        }
        return start;
    }

    private void expandIndex(
            FileEntry indexEntry, List<FileEntry> siblings, CheckpointFormat format, Map<String, Candidate> out)
            throws IOException {
        if (groups.containsKey(indexEntry.path())) {
            return; // the same index reached twice (a folder and its index, or a repeated path)
        }
        HfIndex index = HfIndex.parse(indexEntry.path(), readSmallFile(indexEntry));
        IndexGroup group = new IndexGroup(index);
        groups.put(indexEntry.path(), group);
        Map<String, FileEntry> byName = new HashMap<>();
        for (FileEntry s : siblings) {
            if (s.isFile()) {
                byName.put(s.name(), s);
            }
        }
        for (String shard : index.shards()) {
            FileEntry entry = byName.get(shard);
            if (entry == null) {
                if (options.ignoreMissingFiles()) {
                    LOG.warn(
                            "Skipping shard {} listed in {}: it does not exist (ignoreMissingFiles)",
                            shard,
                            index.location());
                    group.skipped.add(shard);
                }
                continue; // otherwise verify() names the shard and its first tensor
            }
            out.putIfAbsent(entry.path(), new Candidate(entry, format, group));
        }
    }

    private byte[] readSmallFile(FileEntry entry) throws IOException {
        if (entry.length() > MAX_INDEX_BYTES) {
            throw new MalformedTensorFileException(
                    entry.path(),
                    null,
                    "the index is " + entry.length() + " bytes, more than the " + MAX_INDEX_BYTES
                            + " an index of any real model needs");
        }
        byte[] bytes = new byte[(int) entry.length()];
        try (SeekableInput in = store.open(entry).open(ReadPolicy.RANDOM)) {
            in.readFully(0, bytes, 0, bytes.length);
        }
        return bytes;
    }

    /** Lists all files in parallel; a null result marks a file skipped under ignoreCorrupt/MissingFiles. */
    private List<ListedFile> listAll(List<Candidate> candidates) throws IOException {
        int threads = Math.min(options.planningThreads(), Math.max(1, candidates.size()));
        AtomicInteger id = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "spark-tensors-header-" + id.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<ListedFile>> futures = new ArrayList<>();
            for (Candidate c : candidates) {
                futures.add(pool.submit(() -> list(c)));
            }
            List<ListedFile> results = new ArrayList<>();
            for (Future<ListedFile> f : futures) {
                results.add(f.get());
            }
            return results;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("Interrupted while reading tensor file headers");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause().getMessage(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private ListedFile list(Candidate c) throws IOException {
        String path = c.entry.path();
        try {
            CountingInputFile counted = new CountingInputFile(store.open(c.entry));
            FormatReader reader = c.rankFiles != null
                    ? new DTensorRanksReader(
                            c.rankFiles, options.readers().pickle() == ReaderSettings.PickleMode.SYMBOLIC)
                    : c.format.reader(options.readers());
            TensorListing listing = reader.list(counted, store.folderOf(c.entry), options.limits());
            ShardFile file = new ShardFile(path, c.entry.length(), listing.metadata());
            return new ListedFile(file, c.format, listing, counted.bytes(), counted.reads());
        } catch (FileNotFoundException e) {
            if (options.ignoreMissingFiles()) {
                LOG.warn("Skipping missing file {} (ignoreMissingFiles): {}", path, e.getMessage());
                return null;
            }
            throw e;
        } catch (StackOverflowError e) { // a reader's bounded recursion, with maxNesting raised past the stack
            MalformedTensorFileException m = new MalformedTensorFileException(
                    path,
                    null,
                    "its structure nests too deeply for this thread's stack; lower the read option maxNesting");
            if (options.ignoreCorruptFiles()) {
                LOG.warn("Skipping corrupt file {} (ignoreCorruptFiles): {}", path, m.getMessage());
                return null;
            }
            throw m;
        } catch (IOException | RuntimeException e) {
            if (options.ignoreCorruptFiles()) {
                LOG.warn("Skipping corrupt file {} (ignoreCorruptFiles): {}", path, e.getMessage());
                return null;
            }
            throw e;
        }
    }
}
