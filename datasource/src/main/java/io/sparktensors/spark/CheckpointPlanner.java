package io.sparktensors.spark;

import io.sparktensors.checkpoint.ChunkPlanner;
import io.sparktensors.checkpoint.FileSlice;
import io.sparktensors.checkpoint.HfIndex;
import io.sparktensors.checkpoint.ReadSplit;
import io.sparktensors.checkpoint.ShardFile;
import io.sparktensors.checkpoint.SplitPlanner;
import io.sparktensors.checkpoint.TensorChunk;
import io.sparktensors.format.MalformedTensorFileException;
import io.sparktensors.format.safetensors.HeaderReader;
import io.sparktensors.format.safetensors.SafetensorsHeader;
import io.sparktensors.format.safetensors.TensorEntry;
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
 * folders), reads every header in parallel with at most two ranged reads each, checks index folders against
 * their shards, drops tensors the pushed filters exclude, chunks large tensors and packs the chunks into
 * read splits. Driver-only.
 */
final class CheckpointPlanner {
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointPlanner.class);
  private static final String SAFETENSORS_SUFFIX = ".safetensors";
  private static final String INDEX_SUFFIX = ".safetensors.index.json";
  /** An index is JSON of a few bytes per tensor; anything larger than this is refused unread. */
  private static final long MAX_INDEX_BYTES = 256L << 20;

  /** The planned scan and what planning cost. */
  record Plan(List<ReadSplit> splits, int files, long tensors, long headerBytes, long headerReads) {}

  /** A file to plan, and the index folder it belongs to (null for a file named on its own). */
  private record Candidate(FileSystem fs, FileStatus status, IndexGroup group) {}

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

  /** A file whose header was read, and what reading it cost. */
  record HeaderedFile(ShardFile file, SafetensorsHeader header, long bytesRead, int reads) {}

  /**
   * Resolves the paths and reads every header (in parallel), checking index folders against their shards.
   * Files skipped under ignoreCorruptFiles / ignoreMissingFiles are left out.
   */
  List<HeaderedFile> headers() throws IOException {
    List<Candidate> candidates = resolve();
    List<HeaderReader.Result> headers = readHeaders(candidates);
    List<HeaderedFile> out = new ArrayList<>();
    for (int i = 0; i < candidates.size(); i++) {
      HeaderReader.Result r = headers.get(i);
      Candidate c = candidates.get(i);
      String shardName = c.status.getPath().getName();
      if (r == null) {
        if (c.group != null) {
          c.group.skipped.add(shardName);
        }
        continue;
      }
      SafetensorsHeader h = r.header();
      if (c.group != null) {
        Set<String> names = new HashSet<>();
        h.tensors().forEach(t -> names.add(t.name()));
        c.group.shardTensors.put(shardName, names);
      }
      ShardFile file = new ShardFile(c.status.getPath().toString(), c.status.getLen(), h.metadata());
      out.add(new HeaderedFile(file, h, r.bytesRead(), r.reads()));
    }
    verifyIndexes();
    return out;
  }

  Plan plan(TensorFilters filters, boolean readData, int parallelism) {
    try {
      List<FileSlice> slices = new ArrayList<>();
      long tensors = 0;
      long headerBytes = 0;
      long headerReads = 0;
      List<HeaderedFile> files = headers();
      for (HeaderedFile f : files) {
        headerBytes += f.bytesRead();
        headerReads += f.reads();
        String location = f.file().location();
        List<TensorChunk> chunks = new ArrayList<>();
        for (TensorEntry t : f.header().tensors()) {
          if (filters.mayMatch(t.name(), t.dtype().code(), location)) {
            tensors++;
            chunks.addAll(ChunkPlanner.chunks(location, t, f.header().dataStart(), conf.maxChunkBytes()));
          }
        }
        if (!chunks.isEmpty()) {
          slices.add(new FileSlice(f.file(), chunks));
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
          || st.getPath().getName().endsWith(INDEX_SUFFIX))).thenComparing(st -> st.getPath()));
      for (FileStatus status : matches) {
        if (status.isDirectory()) {
          expandFolder(fs, status.getPath(), out);
        } else if (status.getPath().getName().endsWith(INDEX_SUFFIX)) {
          expandIndex(fs, status, out);
        } else {
          out.putIfAbsent(status.getPath(), new Candidate(fs, status, null));
        }
      }
    }
    return new ArrayList<>(out.values());
  }

  private void expandFolder(FileSystem fs, Path folder, Map<Path, Candidate> out) throws IOException {
    FileStatus[] children = fs.listStatus(folder);
    Arrays.sort(children);
    List<FileStatus> indexes = new ArrayList<>();
    List<FileStatus> tensorFiles = new ArrayList<>();
    for (FileStatus child : children) {
      String name = child.getPath().getName();
      if (!child.isFile() || name.startsWith(".") || name.startsWith("_")) {
        continue;
      }
      if (name.endsWith(INDEX_SUFFIX)) {
        indexes.add(child);
      } else if (name.endsWith(SAFETENSORS_SUFFIX)) {
        tensorFiles.add(child);
      }
    }
    FileStatus index = indexes.stream().filter(s -> s.getPath().getName().equals(HfIndex.SAFETENSORS_INDEX))
        .findFirst().orElse(indexes.size() == 1 ? indexes.get(0) : null);
    if (index == null && indexes.size() > 1) {
      throw new IOException("Cannot read folder " + folder + ": it holds several indexes ("
          + indexes.stream().map(s -> s.getPath().getName()).toList() + "). Name the index file to read.");
    }
    if (index != null) {
      expandIndex(fs, index, children, out);
      return;
    }
    if (tensorFiles.isEmpty()) {
      throw new FileNotFoundException("Cannot read folder " + folder + ": it holds no *.safetensors file and no "
          + HfIndex.SAFETENSORS_INDEX + ".");
    }
    for (FileStatus f : tensorFiles) {
      out.putIfAbsent(f.getPath(), new Candidate(fs, f, null));
    }
  }

  private void expandIndex(FileSystem fs, FileStatus index, Map<Path, Candidate> out) throws IOException {
    expandIndex(fs, index, fs.listStatus(index.getPath().getParent()), out);
  }

  private void expandIndex(FileSystem fs, FileStatus indexStatus, FileStatus[] siblings, Map<Path, Candidate> out)
      throws IOException {
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
      out.putIfAbsent(status.getPath(), new Candidate(fs, status, group));
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

  /** Reads all headers in parallel; a null result marks a file skipped under ignoreCorrupt/MissingFiles. */
  private List<HeaderReader.Result> readHeaders(List<Candidate> candidates) throws IOException {
    int threads = Math.min(conf.planningThreads(), Math.max(1, candidates.size()));
    AtomicInteger id = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "spark-tensors-header-" + id.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<HeaderReader.Result>> futures = new ArrayList<>();
      for (Candidate c : candidates) {
        futures.add(pool.submit(() -> readHeader(c)));
      }
      List<HeaderReader.Result> results = new ArrayList<>();
      for (Future<HeaderReader.Result> f : futures) {
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

  private HeaderReader.Result readHeader(Candidate c) throws IOException {
    try {
      return HeaderReader.read(HadoopInputFile.of(c.fs, c.status), conf.maxHeaderBytes());
    } catch (FileNotFoundException e) {
      if (conf.ignoreMissingFiles()) {
        LOG.warn("Skipping missing file {} (ignoreMissingFiles): {}", c.status.getPath(), e.getMessage());
        return null;
      }
      throw e;
    } catch (IOException | RuntimeException e) {
      if (conf.ignoreCorruptFiles()) {
        LOG.warn("Skipping corrupt file {} (ignoreCorruptFiles): {}", c.status.getPath(), e.getMessage());
        return null;
      }
      throw e;
    }
  }
}
