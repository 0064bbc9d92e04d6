package io.sparktensors.spark.write;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.sparktensors.checkpoint.AssemblyPlan;
import io.sparktensors.errors.TensorErrors;
import io.sparktensors.errors.WriteErrors;
import io.sparktensors.format.DType;
import io.sparktensors.format.safetensors.TensorEntry;
import io.sparktensors.spark.HadoopConfs;
import io.sparktensors.spark.PlannedTensorScan;
import io.sparktensors.spark.TensorColumns;
import io.sparktensors.spark.reshard.CheckpointCommitter;
import io.sparktensors.spark.reshard.ShardAssembly;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code df.write.format("safetensors").mode(m).save(path)}. Checks the input's columns and the save mode,
 * then writes in two stages, each bounded in memory by a chunk or a fixed buffer:
 *
 * <ol>
 *   <li>a DataSource V2 write ({@link ShardWriteProvider}) in which each task appends its rows' bytes, as
 *       they arrive, to a staged part file: one pass over the input, no shuffle, no sort;
 *   <li>on the driver, the committed parts are checked (every tensor once, with all its chunks, a known
 *       dtype, a valid shape and exactly the bytes they need), the shards are planned with huggingface_hub's
 *       greedy rule, and one task per shard streams its tensors' ranges from the parts into the shard
 *       ({@link ShardAssembly}), converting dtypes on the fly.
 * </ol>
 *
 * The shards and then the index are published at once ({@link CheckpointCommitter}); any failure deletes the
 * staging and leaves the target as it was. Driver-only.
 */
public final class CheckpointWriteJob {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointWriteJob.class);
    static final String JOB_ID = "spark.tensors.jobId";

    /** Writes in progress on this driver, by job id, for the V2 write to pick up. */
    static final Map<String, PendingWrite> PENDING = new ConcurrentHashMap<>();

    /** What the V2 write needs from the job that started it, and what it hands back. */
    record PendingWrite(
            CheckpointCommitter committer,
            Configuration hadoopConf,
            TensorWriteConf conf,
            AtomicReference<List<PartCommitMessage>> committedParts) {}

    private CheckpointWriteJob() {}

    public static void write(SparkSession spark, SaveMode mode, Map<String, String> options, Dataset<Row> data) {
        TensorWriteConf conf = TensorWriteConf.parse(options);
        boolean chunked = checkColumns(data.schema());
        Configuration hadoopConf = HadoopConfs.of(spark, options);
        try {
            Path target = new Path(conf.path());
            FileSystem fs = target.getFileSystem(hadoopConf);
            boolean exists = fs.exists(target);
            switch (mode) {
                case Append -> throw WriteErrors.append(conf.path());
                case ErrorIfExists -> {
                    if (exists) {
                        throw TensorErrors.targetExists(
                                fs.makeQualified(target).toString(),
                                "Use mode(\"overwrite\") to replace it or mode(\"ignore\") to leave it");
                    }
                }
                case Ignore -> {
                    if (exists) {
                        return;
                    }
                }
                default -> {} // Overwrite: the previous contents are replaced at commit, not before
            }
            CheckpointCommitter committer = CheckpointCommitter.start(hadoopConf, conf.path());
            PendingWrite pending = new PendingWrite(committer, hadoopConf, conf, new AtomicReference<>());
            PENDING.put(committer.jobId(), pending);
            try {
                long start = System.nanoTime();
                PlannedTensorScan scan = DirectScanWrite.scanOf(data);
                AssemblyPlan plan;
                if (scan != null) {
                    plan = DirectScanWrite.plan(scan, conf); // the tensors' runs are known: no staging pass
                } else {
                    stageParts(data, chunked)
                            .write()
                            .format(ShardWriteProvider.class.getName())
                            .option(JOB_ID, committer.jobId())
                            .mode(SaveMode.Append)
                            .save(committer.target());
                    plan = plan(pending.committedParts().get(), conf);
                }
                long staged = System.nanoTime();
                Map<String, Path> shards = ShardAssembly.run(spark, plan, committer, hadoopConf);
                long assembled = System.nanoTime();
                Map<String, Path> index = committer.stageIndex(plan.shards(), hadoopConf);
                committer.commit(hadoopConf, shards, Map.of(), index, mode == SaveMode.Overwrite);
                LOG.info(
                        "Wrote {} tensors in {} shards to {}{}: staging {} ms, assembling {} ms, publishing {} ms",
                        plan.tensorCount(),
                        shards.size(),
                        committer.target(),
                        scan != null ? " straight from the scanned files" : "",
                        (staged - start) / 1_000_000,
                        (assembled - staged) / 1_000_000,
                        (System.nanoTime() - assembled) / 1_000_000);
            } catch (Throwable e) { // Spark may rethrow checked exceptions unchecked
                committer.abort(hadoopConf);
                throw e;
            } finally {
                PENDING.remove(committer.jobId());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write the checkpoint at " + conf.path() + ": " + e.getMessage(), e);
        }
    }

    /** Checks the input has the reader's columns with the reader's types; returns whether chunk columns exist. */
    static boolean checkColumns(StructType schema) {
        require(schema, TensorColumns.NAME, DataTypes.StringType);
        require(schema, TensorColumns.DTYPE, DataTypes.StringType);
        require(schema, TensorColumns.DATA, DataTypes.BinaryType);
        StructField shape = field(schema, TensorColumns.SHAPE);
        if (!(shape.dataType() instanceof ArrayType a)
                || !(a.elementType() instanceof LongType || a.elementType() instanceof IntegerType)) {
            throw wrongType(TensorColumns.SHAPE, "array<bigint>", shape.dataType());
        }
        boolean chunked = schema.getFieldIndex(TensorColumns.CHUNK).isDefined();
        if (chunked) {
            require(schema, TensorColumns.CHUNK, DataTypes.IntegerType);
            require(schema, TensorColumns.CHUNK_COUNT, DataTypes.IntegerType);
        }
        return chunked;
    }

    private static void require(StructType schema, String name, DataType type) {
        StructField f = field(schema, name);
        if (!f.dataType().equals(type)) {
            throw wrongType(name, type.simpleString(), f.dataType());
        }
    }

    private static StructField field(StructType schema, String name) {
        if (schema.getFieldIndex(name).isEmpty()) {
            throw WriteErrors.missingColumn(name, List.of(schema.fieldNames()));
        }
        return schema.apply(name);
    }

    private static IllegalArgumentException wrongType(String name, String expected, DataType actual) {
        return WriteErrors.wrongColumnType(name, expected, actual.simpleString());
    }

    /** The columns the first stage stages, in the order {@link PartDataWriter} reads them. */
    private static Dataset<Row> stageParts(Dataset<Row> data, boolean chunked) {
        return data.select(
                col(TensorColumns.NAME),
                col(TensorColumns.DTYPE),
                col(TensorColumns.SHAPE)
                        .cast(DataTypes.createArrayType(DataTypes.LongType))
                        .as(TensorColumns.SHAPE),
                chunked ? col(TensorColumns.CHUNK) : lit(0).as(TensorColumns.CHUNK),
                chunked ? col(TensorColumns.CHUNK_COUNT) : lit(1).as(TensorColumns.CHUNK_COUNT),
                col(TensorColumns.DATA));
    }

    /**
     * Checks the staged rows and plans the shards: every tensor once, all chunks present once, a known dtype, a
     * valid shape, and exactly the bytes shape and dtype need; each tensor's bytes come from where they were
     * staged, chunk by chunk.
     */
    static AssemblyPlan plan(List<PartCommitMessage> parts, TensorWriteConf conf) {
        Map<String, List<PartCommitMessage.ChunkRecord>> byName = new HashMap<>();
        Map<PartCommitMessage.ChunkRecord, PartCommitMessage> partOf = new IdentityHashMap<>();
        for (PartCommitMessage p : parts) {
            for (PartCommitMessage.ChunkRecord c : p.chunks()) {
                if (c.name() == null) {
                    throw WriteErrors.nullName();
                }
                byName.computeIfAbsent(c.name(), k -> new ArrayList<>()).add(c);
                partOf.put(c, p);
            }
        }
        AssemblyPlan.Builder plan = AssemblyPlan.builder();
        for (Map.Entry<String, List<PartCommitMessage.ChunkRecord>> e : byName.entrySet()) {
            String name = e.getKey();
            List<PartCommitMessage.ChunkRecord> chunks = e.getValue();
            chunks.sort(Comparator.comparingInt(PartCommitMessage.ChunkRecord::chunk));
            PartCommitMessage.ChunkRecord first = chunks.get(0);
            for (PartCommitMessage.ChunkRecord c : chunks) {
                if (!Objects.equals(c.dtype(), first.dtype())
                        || !Arrays.equals(c.shape(), first.shape())
                        || c.chunkCount() != first.chunkCount()) {
                    throw WriteErrors.inconsistentTensor(name);
                }
            }
            int chunkCount = first.chunkCount();
            Set<Integer> distinct = new HashSet<>();
            chunks.forEach(c -> distinct.add(c.chunk()));
            if (distinct.size() != chunks.size() || chunks.size() > chunkCount) {
                throw WriteErrors.tooManyChunks(name, chunks.size(), chunkCount);
            }
            if (chunks.size() < chunkCount
                    || first.chunk() != 0
                    || chunks.get(chunks.size() - 1).chunk() != chunkCount - 1) {
                throw WriteErrors.missingChunks(name, chunks.size(), chunkCount);
            }
            DType dtype = first.dtype() == null ? null : DType.fromCode(first.dtype());
            if (dtype == null) {
                throw WriteErrors.unknownDtype(name, first.dtype());
            }
            long[] shape = first.shape();
            if (shape == null || Arrays.stream(shape).anyMatch(d -> d < 0)) {
                throw WriteErrors.invalidShape(name, shape);
            }
            long expected;
            try {
                expected = dtype.byteSize(TensorEntry.elementCount(shape));
            } catch (ArithmeticException ex) {
                throw WriteErrors.shapeOverflows(name, shape, ex);
            }
            if (expected < 0) {
                throw WriteErrors.partialBytes(name, shape, dtype.code());
            }
            long actual = 0;
            List<AssemblyPlan.Range> ranges = new ArrayList<>(chunks.size());
            for (PartCommitMessage.ChunkRecord c : chunks) {
                if (c.length() < 0) {
                    throw WriteErrors.nullData(name);
                }
                actual += c.length();
                PartCommitMessage part = partOf.get(c);
                ranges.add(new AssemblyPlan.Range(part.part(), part.partLength(), c.offset(), c.length()));
            }
            if (actual != expected) {
                throw WriteErrors.wrongLength(name, actual, shape, dtype.code(), expected);
            }
            plan.add(name, dtype, shape, ranges);
        }
        return plan.build(conf.dtype(), conf.maxShardSize(), conf.filePrefix(), conf.metadata());
    }
}
