package io.sparktensors.spark.reshard;

import io.sparktensors.checkpoint.AssemblyPlan;
import io.sparktensors.checkpoint.CheckpointFormat;
import io.sparktensors.checkpoint.ChunkPlanner;
import io.sparktensors.checkpoint.ListedFile;
import io.sparktensors.checkpoint.ScanPlanner;
import io.sparktensors.checkpoint.ShardPlan;
import io.sparktensors.errors.TensorErrors;
import io.sparktensors.errors.WriteErrors;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.io.HadoopFileStore;
import io.sparktensors.io.OutputFiles;
import io.sparktensors.spark.HadoopConfs;
import io.sparktensors.spark.read.TensorReadConf;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-shards a safetensors checkpoint without passing tensor bytes through Spark rows or shuffles: the driver
 * plans the output shards from the source headers alone; each task writes one output shard, streaming byte
 * ranges from the source files through a fixed-size buffer (converting dtypes on the fly, see
 * {@link ShardAssembly}), so a task's memory stays flat whatever the checkpoint or tensor size. The output is the writer's: the same
 * Hugging Face layout, byte-identical for the same tensors. Small files beside the source (config.json,
 * generation_config.json, tokenizer files) are copied. Staged, then published at once with the index last.
 */
public class CheckpointReshard {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointReshard.class);
    /** Files beside the source larger than this are not copied (they are not configuration). */
    static final long MAX_SIDE_FILE_BYTES = 64L << 20;

    /** Static methods only; subclassed by the deprecated alias in the former package. */
    protected CheckpointReshard() {}

    /** What a re-shard wrote. */
    public record Result(String target, List<String> files, int tensors, long bytes, List<String> copiedFiles) {}

    /** Plans a re-shard from the source headers alone (nothing is written). */
    public static AssemblyPlan plan(SparkSession spark, String source, ReshardOptions options) {
        return plan(source, options, HadoopConfs.of(spark, options.readOptions()));
    }

    private static AssemblyPlan plan(String source, ReshardOptions options, Configuration conf) {
        long start = System.nanoTime();
        Map<String, String> readOptions = new HashMap<>(options.readOptions());
        readOptions.put("path", source);
        TensorReadConf readConf = TensorReadConf.parse(new CaseInsensitiveStringMap(readOptions), null);
        AssemblyPlan.Builder builder = AssemblyPlan.builder();
        Map<String, String> origins = new HashMap<>();
        try {
            ScanPlanner planner = new ScanPlanner(readConf.paths(), readConf.scanOptions(), new HadoopFileStore(conf));
            for (ListedFile f : planner.listings()) {
                for (StoredTensor t : f.listing().tensors()) {
                    String name = options.outputName(t.name());
                    if (name == null) {
                        continue;
                    }
                    String origin = f.file().location() + " " + t.name();
                    String previous = origins.put(name, origin);
                    if (previous != null) {
                        throw WriteErrors.duplicateOutput(name, previous, origin);
                    }
                    ChunkPlanner.checkDecodedWhole(t, readConf.maxChunkBytes());
                    builder.add(name, t.dtype(), t.shape(), AssemblyPlan.Range.of(t));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot plan a re-shard of " + source + ": " + e.getMessage(), e);
        }
        AssemblyPlan plan = builder.build(
                options.dtype(), options.maxShardSize(), options.filePrefix(), new TreeMap<>(Map.of("format", "pt")));
        LOG.info(
                "Planned {} output shards of {} tensors ({} bytes) from the headers of {} in {} ms",
                plan.shards().shards().size(),
                plan.tensorCount(),
                plan.shards().totalSize(),
                source,
                (System.nanoTime() - start) / 1_000_000);
        return plan;
    }

    public static Result run(SparkSession spark, String source, String target, ReshardOptions options) {
        Configuration conf = HadoopConfs.of(spark, options.readOptions());
        try {
            Path targetPath = new Path(target);
            FileSystem targetFs = targetPath.getFileSystem(conf);
            if (!options.overwrite() && targetFs.exists(targetPath)) {
                throw TensorErrors.targetExists(
                        targetFs.makeQualified(targetPath).toString(), "Choose a new target, or overwrite it");
            }
            AssemblyPlan plan = plan(source, options, conf);
            CheckpointCommitter committer = CheckpointCommitter.start(conf, target);
            try {
                return write(spark, source, plan, committer, conf, options);
            } catch (Throwable e) { // Spark may rethrow checked exceptions unchecked
                committer.abort(conf);
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot re-shard " + source + " into " + target + ": " + e.getMessage(), e);
        }
    }

    private static Result write(
            SparkSession spark,
            String source,
            AssemblyPlan assembly,
            CheckpointCommitter committer,
            Configuration conf,
            ReshardOptions options)
            throws IOException {
        ShardPlan plan = assembly.shards();
        java.util.Set<String> dataFiles = new java.util.HashSet<>();
        assembly.sources()
                .values()
                .forEach(src -> src.ranges().forEach(r -> dataFiles.add(new Path(r.file()).getName())));
        Map<String, Path> extras = copySideFiles(source, plan, dataFiles, committer, conf);
        long tasksStart = System.nanoTime();
        Map<String, Path> shardFiles = ShardAssembly.run(spark, assembly, committer, conf);
        long copied = System.nanoTime();
        Map<String, Path> index = committer.stageIndex(plan, conf);
        committer.commit(conf, shardFiles, extras, index, options.overwrite());
        LOG.info(
                "Re-shard tasks took {} ms; publishing {} files took {} ms",
                (copied - tasksStart) / 1_000_000,
                shardFiles.size() + extras.size() + index.size(),
                (System.nanoTime() - copied) / 1_000_000);
        List<String> files = new ArrayList<>(shardFiles.keySet());
        files.addAll(index.keySet());
        int tensors = plan.shards().stream().mapToInt(s -> s.tensors().size()).sum();
        return new Result(committer.target(), files, tensors, plan.totalSize(), List.copyOf(extras.keySet()));
    }

    /**
     * Copies the small non-tensor files of a source folder (config.json and the like) into staging: not the
     * files tensors were read from (ONNX external data, say), nor TF graphs and checkpoint bookkeeping; and those of
     * its {@code huggingface/} sub-folder, where a per-rank DTensor save keeps the config and tokenizer.
     */
    private static Map<String, Path> copySideFiles(
            String source,
            ShardPlan plan,
            java.util.Set<String> dataFiles,
            CheckpointCommitter committer,
            Configuration conf)
            throws IOException {
        Path src = new Path(source);
        FileSystem fs = src.getFileSystem(conf);
        Map<String, Path> copied = new TreeMap<>();
        FileStatus[] matches = fs.globStatus(src);
        if (matches == null || matches.length != 1 || !matches[0].isDirectory()) {
            return copied; // side files are copied from a source that is one folder
        }
        src = matches[0].getPath();
        copySmallFiles(fs, src, plan, dataFiles, committer, conf, copied);
        // Per-rank DTensor saves (verl, SkyRL) keep the model's config and tokenizer in huggingface/ beside them.
        Path hf = new Path(src, HF_FOLDER);
        if (fs.exists(hf) && fs.getFileStatus(hf).isDirectory()) {
            copySmallFiles(fs, hf, plan, dataFiles, committer, conf, copied);
        }
        return copied;
    }

    /** The sub-folder of a per-rank save holding the Hugging Face config and tokenizer files. */
    static final String HF_FOLDER = "huggingface";

    /** Copies the small non-tensor files of {@code src} not copied yet. */
    private static void copySmallFiles(
            FileSystem fs,
            Path src,
            ShardPlan plan,
            java.util.Set<String> dataFiles,
            CheckpointCommitter committer,
            Configuration conf,
            Map<String, Path> copied)
            throws IOException {
        for (FileStatus s : fs.listStatus(src)) {
            String name = s.getPath().getName();
            if (copied.containsKey(name)
                    || !s.isFile()
                    || name.startsWith(".")
                    || name.startsWith("_")
                    || CheckpointFormat.isTensorFile(name)
                    || dataFiles.contains(name)
                    || name.endsWith(".pb")
                    || name.equals("checkpoint")
                    || name.equals(plan.indexFileName())
                    || s.getLen() > MAX_SIDE_FILE_BYTES) {
                continue;
            }
            Path dst = new Path(committer.driverDir(), name);
            try (InputStream in = fs.open(s.getPath());
                    OutputStream out = OutputFiles.create(dst, conf)) {
                in.transferTo(out);
            }
            copied.put(name, dst);
        }
    }
}
