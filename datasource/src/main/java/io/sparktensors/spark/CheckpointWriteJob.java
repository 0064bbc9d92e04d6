package io.sparktensors.spark;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;

import io.sparktensors.checkpoint.ShardPlan;
import io.sparktensors.checkpoint.ShardPlanner;
import io.sparktensors.format.FloatConversion;
import io.sparktensors.format.safetensors.DType;
import io.sparktensors.format.safetensors.HeaderWriter;
import io.sparktensors.format.safetensors.TensorEntry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * {@code df.write.format("safetensors").mode(m).save(path)}: checks the input's columns and save mode, plans
 * the shards on the driver from names, dtypes and shapes alone (huggingface_hub's greedy rule), then runs a
 * DataSource V2 write ({@link ShardWriteProvider}) whose tasks each stream whole shards into staging, and
 * whose commit publishes them with the index last. Driver-only.
 */
final class CheckpointWriteJob {
  static final String SHARD = "__shard";
  static final String POSITION = "__pos";
  static final String JOB_ID = "spark.tensors.jobId";

  /** Writes in progress on this driver, by job id, for the V2 write to pick up. */
  static final Map<String, PendingWrite> PENDING = new ConcurrentHashMap<>();

  /** What the V2 write needs from the job that started it. */
  record PendingWrite(ShardPlan plan, Map<String, DType> sourceDtypes, CheckpointCommitter committer,
      Configuration hadoopConf, boolean overwrite, TensorWriteConf conf) {}

  private CheckpointWriteJob() {}

  static void write(SparkSession spark, SaveMode mode, Map<String, String> options, Dataset<Row> data) {
    TensorWriteConf conf = TensorWriteConf.parse(options);
    boolean chunked = checkColumns(data.schema());
    Configuration hadoopConf = TensorTable.hadoopConf(spark, options);
    try {
      Path target = new Path(conf.path());
      FileSystem fs = target.getFileSystem(hadoopConf);
      boolean exists = fs.exists(target);
      switch (mode) {
        case Append -> throw new IllegalArgumentException("Cannot append to the checkpoint at " + conf.path()
            + ": its shard names and index describe the whole set of tensors. Write a new path, or use "
            + "mode(\"overwrite\") to replace it.");
        case ErrorIfExists -> {
          if (exists) {
            throw new IllegalArgumentException("Path " + fs.makeQualified(target) + " already exists. Use "
                + "mode(\"overwrite\") to replace it or mode(\"ignore\") to leave it.");
          }
        }
        case Ignore -> {
          if (exists) {
            return;
          }
        }
        default -> { } // Overwrite: the previous contents are replaced at commit, not before
      }
      Map<String, DType> sourceDtypes = new HashMap<>();
      ShardPlan plan = plan(data, chunked, conf, sourceDtypes);
      CheckpointCommitter committer = CheckpointCommitter.start(hadoopConf, conf.path());
      PENDING.put(committer.jobId(), new PendingWrite(plan, sourceDtypes, committer, hadoopConf,
          mode == SaveMode.Overwrite, conf));
      try {
        prepare(spark, data, chunked, plan).write().format(ShardWriteProvider.class.getName())
            .option(JOB_ID, committer.jobId()).mode(SaveMode.Append).save(committer.target());
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
      throw new IllegalArgumentException("Cannot write safetensors: the input has no column '" + name
          + "'. It needs the reader's columns name, dtype, shape and data (and chunk, chunk_count for chunked "
          + "tensors); it has " + List.of(schema.fieldNames()) + ".");
    }
    return schema.apply(name);
  }

  private static IllegalArgumentException wrongType(String name, String expected, DataType actual) {
    return new IllegalArgumentException("Cannot write safetensors: column '" + name + "' must be " + expected
        + ", found " + actual.simpleString() + ".");
  }

  /**
   * Plans the shards from one pass over names, dtypes and shapes (the data column is not read), checking on
   * the way that each tensor appears once, with all its chunks, a known dtype and a valid shape.
   */
  static ShardPlan plan(Dataset<Row> data, boolean chunked, TensorWriteConf conf, Map<String, DType> sourceDtypes) {
    Dataset<Row> rows = chunked ? data : data.withColumn(TensorColumns.CHUNK, lit(0))
        .withColumn(TensorColumns.CHUNK_COUNT, lit(1));
    List<Row> tensors = rows.groupBy(TensorColumns.NAME).agg(
        first(TensorColumns.DTYPE), first(TensorColumns.SHAPE), count(lit(1)), countDistinct(col(TensorColumns.CHUNK)),
        min(TensorColumns.CHUNK), max(TensorColumns.CHUNK), max(TensorColumns.CHUNK_COUNT),
        countDistinct(col(TensorColumns.DTYPE)), countDistinct(col(TensorColumns.SHAPE))).collectAsList();
    List<HeaderWriter.Spec> specs = new ArrayList<>(tensors.size());
    for (Row r : tensors) {
      String name = r.getString(0);
      if (name == null) {
        throw new IllegalArgumentException("Cannot write a tensor without a name (a null in column 'name').");
      }
      long n = r.getLong(3);
      if (r.getLong(8) > 1 || r.getLong(9) > 1) {
        throw new IllegalArgumentException("Tensor '" + name + "' appears with different dtypes or shapes: "
            + "tensor names must be unique.");
      }
      if (r.isNullAt(5) || r.isNullAt(7)) {
        throw new IllegalArgumentException("Tensor '" + name + "' has a null chunk or chunk_count.");
      }
      int chunkCount = r.getInt(7);
      if (r.getLong(4) != n || n > chunkCount) {
        throw new IllegalArgumentException("Tensor '" + name + "' appears " + n + " times for " + chunkCount
            + " chunk(s): duplicate tensor names or overlapping chunks.");
      }
      if (n < chunkCount || r.getInt(5) != 0 || r.getInt(6) != chunkCount - 1) {
        throw new IllegalArgumentException("Tensor '" + name + "' has " + n + " of its " + chunkCount
            + " chunks (indexes " + r.getInt(5) + " to " + r.getInt(6) + "): chunks are missing.");
      }
      String code = r.getString(1);
      DType dtype = code == null ? null : DType.fromCode(code);
      if (dtype == null) {
        throw new IllegalArgumentException("Tensor '" + name + "' has the unknown dtype '" + code + "'.");
      }
      if (r.isNullAt(2)) {
        throw new IllegalArgumentException("Tensor '" + name + "' has no shape.");
      }
      List<Object> dims = r.getList(2);
      long[] shape = new long[dims.size()];
      for (int i = 0; i < shape.length; i++) {
        Object d = dims.get(i);
        shape[i] = d == null ? -1 : ((Number) d).longValue();
        if (shape[i] < 0) {
          throw new IllegalArgumentException("Tensor '" + name + "' has the invalid shape " + dims + ".");
        }
      }
      DType out = FloatConversion.outputDtype(dtype, conf.dtype());
      if (out != dtype) {
        sourceDtypes.put(name, dtype);
      }
      HeaderWriter.Spec spec = new HeaderWriter.Spec(name, out, shape);
      try {
        spec.byteLength();
        TensorEntry.elementCount(shape);
      } catch (IllegalArgumentException | ArithmeticException e) {
        throw new IllegalArgumentException("Tensor '" + name + "' cannot be written: " + e.getMessage(), e);
      }
      specs.add(spec);
    }
    return ShardPlanner.plan(specs, conf.maxShardSize(), conf.filePrefix(), conf.metadata());
  }

  /** The rows the V2 write needs, each with its shard and position in the shard. */
  private static Dataset<Row> prepare(SparkSession spark, Dataset<Row> data, boolean chunked, ShardPlan plan) {
    List<Row> placement = new ArrayList<>();
    for (int s = 0; s < plan.shards().size(); s++) {
      List<TensorEntry> tensors = plan.shards().get(s).tensors();
      for (int p = 0; p < tensors.size(); p++) {
        placement.add(RowFactory.create(tensors.get(p).name(), s, p));
      }
    }
    StructType placementSchema = new StructType()
        .add("__name", DataTypes.StringType, false)
        .add(SHARD, DataTypes.IntegerType, false)
        .add(POSITION, DataTypes.IntegerType, false);
    Dataset<Row> where = spark.createDataFrame(placement, placementSchema);
    Dataset<Row> rows = data.select(col(TensorColumns.NAME),
        chunked ? col(TensorColumns.CHUNK) : lit(0).as(TensorColumns.CHUNK), col(TensorColumns.DATA));
    return rows.join(broadcast(where), rows.col(TensorColumns.NAME).equalTo(where.col("__name")))
        .select(col(TensorColumns.NAME), col(TensorColumns.CHUNK), col(TensorColumns.DATA), col(SHARD), col(POSITION));
  }
}
