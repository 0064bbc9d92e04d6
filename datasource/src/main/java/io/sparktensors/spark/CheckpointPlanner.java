package io.sparktensors.spark;

import io.sparktensors.checkpoint.CheckpointFormat;
import io.sparktensors.checkpoint.ChunkPlanner;
import io.sparktensors.checkpoint.FileSlice;
import io.sparktensors.checkpoint.HfIndex;
import io.sparktensors.checkpoint.ReadSplit;
import io.sparktensors.checkpoint.ShardFile;
import io.sparktensors.checkpoint.SplitPlanner;
import io.sparktensors.checkpoint.TensorChunk;
import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorListing;
import io.sparktensors.format.pytorch.PyTorchReader;
import io.sparktensors.format.safetensors.SafetensorsReader;
import io.sparktensors.io.CountingInputFile;
import io.sparktensors.io.HadoopFolderFiles;
import io.sparktensors.io.HadoopInputFile;
import io.sparktensors.io.InputFile;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
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
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plans a scan on the driver from headers alone: resolves paths (files, folders, globs, Hugging Face index
 * folders) into checkpoint files of the scan's format (or of the format each name marks), lists every file
 * in parallel (a safetensors header takes at most two ranged reads), checks index folders against their
 * shards, drops tensors the pushed filters exclude, chunks large tensors and packs the chunks into read
 * splits, grouped by the file that holds their bytes. Driver-only.
 */
final class CheckpointPlanner {
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointPlanner.class);
  /** An index is JSON of a few bytes per tensor; anything larger than this is refused unread. */
  private static final long MAX_INDEX_BYTES = 256L << 20;

  /** The planned scan and what planning cost. */
  record Plan(List<ReadSplit> splits, int files, long tensors, long headerBytes, long headerReads) {}

  /** A file to plan, its format, and the index folder it belongs to (null for a file named on its own). */
  private record Candidate(FileSystem fs, FileStatus status, CheckpointFormat format, IndexGroup group) {}

  /** An index and its folder's listing, so missing shards are found without a request per shard. */
  private static final class IndexGroup {
    final HfIndex index;
    final Map<String, Set<String>> shardTensors = new HashMap<>();
    final Set<String> skipped = new HashSet<>();

    IndexGroup(HfIndex index) {
      this.index = index;
    }
  }

  private final TensorReadConf conf;
  private final Configuration hadoopConf;
  /** Index folders met while resolving paths, by index path. */
  private final Map<Path, IndexGroup> groups = new LinkedHashMap<>();

  CheckpointPlanner(TensorReadConf conf, Configuration hadoopConf) {
    this.conf = conf;
    this.hadoopConf = hadoopConf;
  }

  /** A listed checkpoint file, and what listing it cost. */
  record ListedFile(ShardFile file, CheckpointFormat format, TensorListing listing, long bytesRead, long reads) {}

  /**
   * Resolves the paths and lists every file (in parallel), checking index folders against their shards.
   * Files skipped under ignoreCorruptFiles / ignoreMissingFiles are left out.
   */
  List<ListedFile> listings() throws IOException {
    List<Candidate> candidates = resolve();
    List<ListedFile> listed = listAll(candidates);
    List<ListedFile> out = new ArrayList<>();
    for (int i = 0; i < candidates.size(); i++) {
      ListedFile f = listed.get(i);
      Candidate c = candidates.get(i);
      String shardName = c.status.getPath().getName();
      if (f == null) {
        if (c.group != null) {
          c.group.skipped.add(shardName);
        }
        continue;
      }
      if (c.group != null) {
        c.group.shardTensors.put(shardName, indexedNames(f.listing()));
      }
      if (!f.listing().skipped().isEmpty()) {
        LOG.info("{}: skipped {} values that are not tensors: {}", f.file().location(),
            f.listing().skipped().size(), f.listing().skipped().subList(0, Math.min(20, f.listing().skipped().size())));
      }
      out.add(f);
    }
    verifyIndexes();
    return out;
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

  Plan plan(TensorFilters filters, boolean readData, int parallelism) {
    try {
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
          if (filters.mayMatch(t.name(), t.dtype().code(), location)) {
            tensors++;
            byFile.computeIfAbsent(location, k -> new ArrayList<>()).addAll(ChunkPlanner.chunks(t,
                conf.maxChunkBytes()));
            lengths.put(location, t.data().fileLength());
          }
        }
        for (Map.Entry<String, List<TensorChunk>> e : byFile.entrySet()) {
          List<TensorChunk> chunks = e.getValue();
          chunks.sort(java.util.Comparator.comparingLong(TensorChunk::offset)); // stable: chunks stay in order
          slices.add(new FileSlice(new ShardFile(e.getKey(), lengths.get(e.getKey()), f.listing().metadata()),
              chunks));
        }
      }
      List<ReadSplit> splits = SplitPlanner.plan(slices, readData, conf.maxPartitionBytes(),
          conf.openCostBytes(), parallelism);
      return new Plan(splits, files.size(), tensors, headerBytes, headerReads);
    } catch (IOException e) {
      throw new UncheckedIOException(e.getMessage(), e);
    }
  }

  private void verifyIndexes() throws MalformedTensorFileException {
    for (IndexGroup g : groups.values()) {
      List<String> unlisted = g.index.verify(g.shardTensors, g.skipped);
      if (!unlisted.isEmpty()) {
        LOG.warn("{} tensors in the shards of {} are not listed in its weight_map (they are read too): {}",
            unlisted.size(), g.index.location(), unlisted.subList(0, Math.min(20, unlisted.size())));
      }
    }
  }

  /** Expands the paths into the files to plan, in a stable order, each once. */
  private List<Candidate> resolve() throws IOException {
    Map<Path, Candidate> out = new LinkedHashMap<>();
    for (String p : conf.paths()) {
      Path path = new Path(p);
      FileSystem fs = path.getFileSystem(hadoopConf);
      FileStatus[] matches = fs.globStatus(path);
      if (matches == null || matches.length == 0) {
        throw new FileNotFoundException("Path does not exist: " + fs.makeQualified(path)
            + ". Check the path, and that the Hadoop configuration reaches its file system.");
      }
      // Folders and indexes first, so shards a glob also matches join their index's checks.
      Arrays.sort(matches, java.util.Comparator.comparing((FileStatus st) -> !(st.isDirectory()
          || isIndex(st.getPath().getName()))).thenComparing(st -> st.getPath()));
      for (FileStatus status : matches) {
        String name = status.getPath().getName();
        if (status.isDirectory()) {
          expandFolder(fs, status.getPath(), out);
        } else if (isIndex(name)) {
          expandIndex(fs, status, formatOf(name), out);
        } else if (matches.length == 1 || conf.format() != null || CheckpointFormat.detect(name) != null) {
          out.putIfAbsent(status.getPath(), new Candidate(fs, status, formatOf(name), null));
        }
      }
    }
    return new ArrayList<>(out.values());
  }

  /** The scan's format, or the one the name marks when the scan reads any format. */
  private CheckpointFormat formatOf(String fileName) throws IOException {
    if (conf.format() != null) {
      return conf.format();
    }
    CheckpointFormat f = CheckpointFormat.detect(fileName);
    if (f == null) {
      throw new IOException("Cannot tell the format of '" + fileName + "' from its name. Name the format: "
          + "spark.read.format(\"pytorch\") (or safetensors, tensorflow, keras, onnx, gguf).");
    }
    return f;
  }

  private boolean isIndex(String fileName) {
    CheckpointFormat f = conf.format() != null ? conf.format() : CheckpointFormat.detect(fileName);
    return f != null && f.isIndex(fileName);
  }

  /**
   * A folder: the format's index when there is one, else every file of the format in it. Reading any
   * format, the first format (in {@link CheckpointFormat} order) with files in the folder is read, so a
   * model saved as both safetensors and PyTorch files is read once.
   */
  private void expandFolder(FileSystem fs, Path folder, Map<Path, Candidate> out) throws IOException {
    FileStatus[] children = fs.listStatus(folder);
    Arrays.sort(children);
    List<CheckpointFormat> formats = conf.format() != null ? List.of(conf.format())
        : Arrays.asList(CheckpointFormat.values());
    for (CheckpointFormat format : formats) {
      List<FileStatus> indexes = new ArrayList<>();
      List<FileStatus> tensorFiles = new ArrayList<>();
      for (FileStatus child : children) {
        String name = child.getPath().getName();
        if (!child.isFile() || name.startsWith(".") || name.startsWith("_")) {
          continue;
        }
        if (format.isIndex(name)) {
          indexes.add(child);
        } else if (format.isDataFile(name)) {
          tensorFiles.add(child);
        }
      }
      FileStatus index = indexes.stream().filter(s -> s.getPath().getName().equals(format.defaultIndex()))
          .findFirst().orElse(indexes.size() == 1 ? indexes.get(0) : null);
      if (index == null && indexes.size() > 1) {
        throw new IOException("Cannot read folder " + folder + ": it holds several indexes ("
            + indexes.stream().map(s -> s.getPath().getName()).toList() + "). Name the index file to read.");
      }
      if (index != null) {
        expandIndex(fs, index, children, format, out);
        return;
      }
      if (conf.format() == null) { // only now, with no index to go by, tell ambiguous names by their bytes
        List<FileStatus> ofFormat = new ArrayList<>();
        for (FileStatus f : tensorFiles) {
          if (isOfFormat(fs, f, format)) {
            ofFormat.add(f);
          }
        }
        tensorFiles = ofFormat;
      }
      if (!tensorFiles.isEmpty()) {
        for (FileStatus f : tensorFiles) {
          out.putIfAbsent(f.getPath(), new Candidate(fs, f, format, null));
        }
        return;
      }
      Path nested = format.nestedFile() == null ? null : new Path(folder, format.nestedFile());
      if (nested != null && fs.exists(nested)) {
        FileStatus status = fs.getFileStatus(nested);
        out.putIfAbsent(status.getPath(), new Candidate(fs, status, format, null));
        return;
      }
    }
    throw new FileNotFoundException("Cannot read folder " + folder + ": it holds no checkpoint file"
        + (conf.format() != null ? " of the format " + conf.format().shortName() : "") + " and no index.");
  }

  /**
   * Whether a file whose name fits several formats is of {@code format}: a {@code .bin} beside an ONNX
   * model holds its external data, not a PyTorch checkpoint. Only PyTorch names are ambiguous; telling
   * them costs one small read.
   */
  private static boolean isOfFormat(FileSystem fs, FileStatus file, CheckpointFormat format) throws IOException {
    if (format != CheckpointFormat.PYTORCH) {
      return true;
    }
    byte[] start = new byte[(int) Math.min(4, file.getLen())];
    try (SeekableInput in = HadoopInputFile.of(fs, file).open(ReadPolicy.RANDOM)) {
      in.readFully(0, start, 0, start.length);
    }
    return PyTorchReader.looksLikeTorchFile(start);
  }

  private void expandIndex(FileSystem fs, FileStatus index, CheckpointFormat format, Map<Path, Candidate> out)
      throws IOException {
    expandIndex(fs, index, fs.listStatus(index.getPath().getParent()), format, out);
  }

  private void expandIndex(FileSystem fs, FileStatus indexStatus, FileStatus[] siblings, CheckpointFormat format,
      Map<Path, Candidate> out) throws IOException {
    if (groups.containsKey(indexStatus.getPath())) {
      return; // the same index reached twice (a folder and its index, or a repeated path)
    }
    HfIndex index = HfIndex.parse(indexStatus.getPath().toString(), readSmallFile(fs, indexStatus));
    IndexGroup group = new IndexGroup(index);
    groups.put(indexStatus.getPath(), group);
    Map<String, FileStatus> byName = new HashMap<>();
    for (FileStatus s : siblings) {
      if (s.isFile()) {
        byName.put(s.getPath().getName(), s);
      }
    }
    for (String shard : index.shards()) {
      FileStatus status = byName.get(shard);
      if (status == null) {
        if (conf.ignoreMissingFiles()) {
          LOG.warn("Skipping shard {} listed in {}: it does not exist (ignoreMissingFiles)", shard,
              index.location());
          group.skipped.add(shard);
        }
        continue; // otherwise verify() names the shard and its first tensor
      }
      out.putIfAbsent(status.getPath(), new Candidate(fs, status, format, group));
    }
  }

  private static byte[] readSmallFile(FileSystem fs, FileStatus status) throws IOException {
    if (status.getLen() > MAX_INDEX_BYTES) {
      throw new MalformedTensorFileException(status.getPath().toString(), null, "the index is "
          + status.getLen() + " bytes, more than the " + MAX_INDEX_BYTES + " an index of any real model needs");
    }
    InputFile file = HadoopInputFile.of(fs, status);
    byte[] bytes = new byte[(int) status.getLen()];
    try (SeekableInput in = file.open(ReadPolicy.RANDOM)) {
      in.readFully(0, bytes, 0, bytes.length);
    }
    return bytes;
  }

  /** Lists all files in parallel; a null result marks a file skipped under ignoreCorrupt/MissingFiles. */
  private List<ListedFile> listAll(List<Candidate> candidates) throws IOException {
    int threads = Math.min(conf.planningThreads(), Math.max(1, candidates.size()));
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
    try {
      ShardFile file;
      TensorListing listing;
      long bytes;
      long reads;
      InputFile input = HadoopInputFile.of(c.fs, c.status);
      if (c.format == CheckpointFormat.SAFETENSORS) {
        SafetensorsReader.Listed l = new SafetensorsReader().listCounted(input, conf.limits());
        listing = l.listing();
        bytes = l.bytesRead();
        reads = l.reads();
      } else {
        CountingInputFile counted = new CountingInputFile(input);
        listing = c.format.reader(conf.dequantize()).list(counted,
            new HadoopFolderFiles(c.fs, c.status.getPath().getParent()), conf.limits());
        bytes = counted.bytes();
        reads = counted.reads();
      }
      file = new ShardFile(c.status.getPath().toString(), c.status.getLen(), listing.metadata());
      return new ListedFile(file, c.format, listing, bytes, reads);
    } catch (FileNotFoundException e) {
      if (conf.ignoreMissingFiles()) {
        LOG.warn("Skipping missing file {} (ignoreMissingFiles): {}", c.status.getPath(), e.getMessage());
        return null;
      }
      throw e;
    } catch (StackOverflowError e) { // a reader's bounded recursion, with maxNesting raised past the stack
      MalformedTensorFileException m = new MalformedTensorFileException(c.status.getPath().toString(), null,
          "its structure nests too deeply for this thread's stack; lower the read option maxNesting");
      if (conf.ignoreCorruptFiles()) {
        LOG.warn("Skipping corrupt file {} (ignoreCorruptFiles): {}", c.status.getPath(), m.getMessage());
        return null;
      }
      throw m;
    } catch (IOException | RuntimeException e) {
      if (conf.ignoreCorruptFiles()) {
        LOG.warn("Skipping corrupt file {} (ignoreCorruptFiles): {}", c.status.getPath(), e.getMessage());
        return null;
      }
      throw e;
    }
  }
}
