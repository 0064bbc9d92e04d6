package io.sparktensors.spark.write;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparktensors.errors.DatasetErrors;
import io.sparktensors.errors.TensorErrors;
import io.sparktensors.format.FloatConversion;
import io.sparktensors.spark.DatasetColumn;
import io.sparktensors.spark.DatasetLayout;
import io.sparktensors.spark.GrowableBytes;
import io.sparktensors.spark.TensorColumns;
import io.sparktensors.spark.compat.SparkInternals;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.execution.datasources.SQLHadoopMapReduceCommitProtocol;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;

/**
 * {@code df.write.format("safetensors").option("layout", "dataset" | "kv")}: a DataFrame of features as
 * training data. Driver-only.
 *
 * <ul>
 *   <li>{@code dataset}: Spark's file-source write through {@link DatasetFileFormat} (see there why), one
 *       tensor per column per file;
 *   <li>{@code kv}: rows become tensor rows ({@code KEY/COLUMN}, dtype, shape, bytes) and go through the
 *       checkpoint writer, so shards, index and atomic publication are the checkpoint's.
 * </ul>
 */
public final class DatasetWriteJob {
    static final String JOB_ID = "spark.tensors.datasetJobId";
    /** Spark's option key for {@code partitionBy} columns handed to a V1 source (a JSON array). */
    private static final String PARTITION_COLUMNS = "__partition_columns";

    private static final String COMMIT_PROTOCOL = "spark.sql.sources.commitProtocolClass";
    private static final String PARTITION_OVERWRITE_MODE = "spark.sql.sources.partitionOverwriteMode";

    /** Dataset writes in progress on this driver, by id, for {@link DatasetFileFormat} to pick up. */
    static final Map<String, DatasetWriteConf> PENDING = new ConcurrentHashMap<>();

    private DatasetWriteJob() {}

    /** The {@code layout} option: checkpoint (the default), dataset or kv. */
    public static String layout(Map<String, String> options) {
        String layout = null;
        for (Map.Entry<String, String> e : options.entrySet()) {
            if (e.getKey().equalsIgnoreCase(TensorWriteOptions.LAYOUT)) {
                layout = e.getValue().trim().toLowerCase(Locale.ROOT);
            }
        }
        if (layout == null) {
            return DatasetLayout.CHECKPOINT;
        }
        if (!List.of(DatasetLayout.CHECKPOINT, DatasetLayout.DATASET, DatasetLayout.KV)
                .contains(layout)) {
            throw TensorErrors.badOption(TensorWriteOptions.LAYOUT, layout, "checkpoint, dataset or kv");
        }
        return layout;
    }

    /** Writes {@code data} in the layout its options ask for. */
    public static void write(SparkSession spark, SaveMode mode, Map<String, String> options, Dataset<Row> data) {
        switch (layout(options)) {
            case DatasetLayout.DATASET -> writeDataset(spark, mode, options, data);
            case DatasetLayout.KV -> writeKv(spark, mode, options, data);
            default -> CheckpointWriteJob.write(spark, mode, options, data);
        }
    }

    private static void writeDataset(
            SparkSession spark, SaveMode mode, Map<String, String> options, Dataset<Row> data) {
        List<String> partitionColumns = partitionColumns(options);
        DatasetWriteConf conf = DatasetWriteConf.parse(options, data.schema(), partitionColumns, userMetadata(options));
        String path = TensorWriteConf.parse(options).path();
        String id = UUID.randomUUID().toString();
        PENDING.put(id, conf);
        try {
            Map<String, String> passed = new HashMap<>(options);
            passed.remove(PARTITION_COLUMNS);
            passed.remove("path");
            SaveMode sparkMode = mode;
            if (mode == SaveMode.Overwrite && runsDatasetCommitter(spark)) {
                // Spark would empty the folder before the job; appending and letting the committer delete the
                // old files at the job's commit keeps them when the job fails.
                sparkMode = SaveMode.Append;
                passed.put(
                        DatasetOutputCommitter.OVERWRITE,
                        dynamicOverwrite(spark, options) && !partitionColumns.isEmpty() ? "dynamic" : "static");
            }
            data.write()
                    .format(DatasetFileFormat.class.getName())
                    .mode(sparkMode)
                    .options(passed)
                    .option(JOB_ID, id)
                    .option("maxRecordsPerFile", "0")
                    .partitionBy(partitionColumns.toArray(new String[0]))
                    .save(path);
        } finally {
            PENDING.remove(id);
        }
    }

    /**
     * Whether the session's file commit protocol is Spark's SQL one, which runs the committer a job names
     * ({@link DatasetOutputCommitter}); another (such as the S3A committers' {@code PathOutputCommitProtocol})
     * runs its own, so shapes are checked within tasks only and an overwrite empties the folder first.
     */
    static boolean runsDatasetCommitter(SparkSession spark) {
        String name = spark.conf().get(COMMIT_PROTOCOL, SQLHadoopMapReduceCommitProtocol.class.getName());
        try {
            Class<?> c = Class.forName(name, false, Thread.currentThread().getContextClassLoader());
            return SQLHadoopMapReduceCommitProtocol.class.isAssignableFrom(c);
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /** Spark's partitionOverwriteMode: the write option, else the session's setting; static by default. */
    private static boolean dynamicOverwrite(SparkSession spark, Map<String, String> options) {
        String mode = spark.conf().get(PARTITION_OVERWRITE_MODE, "static");
        for (Map.Entry<String, String> e : options.entrySet()) {
            if (e.getKey().equalsIgnoreCase("partitionOverwriteMode")) {
                mode = e.getValue();
            }
        }
        return mode.trim().equalsIgnoreCase("dynamic");
    }

    private static List<String> partitionColumns(Map<String, String> options) {
        String json = options.get(PARTITION_COLUMNS);
        if (json == null) {
            return List.of();
        }
        try {
            return Arrays.asList(new ObjectMapper().readValue(json, String[].class));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("Spark passed unreadable partition columns: " + json, e);
        }
    }

    private static TreeMap<String, String> userMetadata(Map<String, String> options) {
        TreeMap<String, String> metadata =
                new TreeMap<>(TensorWriteConf.parse(options).metadata());
        return metadata;
    }

    // ---- kv ------------------------------------------------------------------------------------------------

    private static void writeKv(SparkSession spark, SaveMode mode, Map<String, String> options, Dataset<Row> data) {
        StructType schema = data.schema();
        String key = null;
        for (Map.Entry<String, String> e : options.entrySet()) {
            if (e.getKey().equalsIgnoreCase(TensorWriteOptions.KEY_COLUMN)) {
                key = e.getValue();
            }
        }
        if (key == null || schema.getFieldIndex(key).isEmpty()) {
            throw DatasetErrors.kvKey(key, List.of(schema.fieldNames()));
        }
        DataType keyType = schema.apply(key).dataType();
        if (!(keyType instanceof StringType
                || keyType instanceof IntegerType
                || keyType instanceof LongType
                || keyType instanceof ShortType
                || keyType instanceof ByteType)) {
            throw DatasetErrors.unsupportedType(key, keyType.simpleString() + " (as a key: use string or integers)");
        }
        DatasetWriteConf conf = DatasetWriteConf.parse(options, schema, List.of(key), new TreeMap<>());
        int keyOrdinal = schema.fieldIndex(key);
        int[] ordinals = Arrays.stream(conf.columns())
                .mapToInt(c -> schema.fieldIndex(c.name()))
                .toArray();
        boolean single = ordinals.length == 1;
        String keyName = key;
        DatasetColumn[] columns = conf.columns();
        JavaRDD<InternalRow> rows = SparkInternals.queryExecution(data).toRdd().toJavaRDD();
        JavaRDD<Row> tensors =
                rows.mapPartitions(it -> new KvRows(it, keyOrdinal, keyType, ordinals, columns, single, keyName));
        StructType tensorSchema = new StructType()
                .add(TensorColumns.NAME, DataTypes.StringType, false)
                .add(TensorColumns.DTYPE, DataTypes.StringType, false)
                .add(TensorColumns.SHAPE, DataTypes.createArrayType(DataTypes.LongType, false), false)
                .add(TensorColumns.DATA, DataTypes.BinaryType, false);
        Map<String, String> passed = new HashMap<>(options);
        passed.keySet().removeIf(k -> k.equalsIgnoreCase(TensorWriteOptions.LAYOUT));
        passed.put(TensorWriteOptions.METADATA_PREFIX + DatasetLayout.LAYOUT, DatasetLayout.KV);
        passed.put(TensorWriteOptions.METADATA_PREFIX + DatasetLayout.KEY_COLUMN, key);
        passed.put(TensorWriteOptions.METADATA_PREFIX + DatasetLayout.SCHEMA, schema.json());
        CheckpointWriteJob.write(spark, mode, passed, spark.createDataFrame(tensors, tensorSchema));
    }

    /** One input partition's rows as tensor rows: each column of each row one tensor named KEY/COLUMN. */
    private static final class KvRows implements Iterator<Row> {
        private final Iterator<InternalRow> rows;
        private final int keyOrdinal;
        private final DataType keyType;
        private final int[] ordinals;
        private final DatasetColumn[] columns;
        private final boolean single;
        private final String keyName;
        private final int partition;
        private final List<Row> pending = new ArrayList<>();
        private long rowNumber;

        KvRows(
                Iterator<InternalRow> rows,
                int keyOrdinal,
                DataType keyType,
                int[] ordinals,
                DatasetColumn[] columns,
                boolean single,
                String keyName) {
            this.rows = rows;
            this.keyOrdinal = keyOrdinal;
            this.keyType = keyType;
            this.ordinals = ordinals;
            this.columns = columns;
            this.single = single;
            this.keyName = keyName;
            TaskContext task = TaskContext.get();
            this.partition = task == null ? 0 : task.partitionId();
        }

        @Override
        public boolean hasNext() {
            while (pending.isEmpty() && rows.hasNext()) {
                convert(rows.next());
            }
            return !pending.isEmpty();
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new java.util.NoSuchElementException();
            }
            return pending.remove(pending.size() - 1);
        }

        private void convert(InternalRow row) {
            if (row.isNullAt(keyOrdinal)) {
                throw DatasetErrors.kvNullKey(keyName);
            }
            String key = row.get(keyOrdinal, keyType).toString();
            for (int i = columns.length - 1; i >= 0; i--) {
                DatasetColumn c = columns[i];
                GrowableBytes buf = new GrowableBytes(c.name(), 64);
                long[] shape = new long[c.depth()];
                c.append(row, ordinals[i], buf, shape, rowNumber, partition, true);
                if (c.kind() == DatasetColumn.Kind.BINARY) {
                    shape = c.declaredShape();
                }
                byte[] bytes = converted(c, buf.view());
                Long[] boxed = Arrays.stream(shape).boxed().toArray(Long[]::new);
                pending.add(RowFactory.create(
                        single ? key : key + "/" + c.name(), c.stored().code(), boxed, bytes));
            }
            rowNumber++;
        }

        private static byte[] converted(DatasetColumn c, ByteBuffer src) {
            if (c.natural() == c.stored()) {
                byte[] b = new byte[src.remaining()];
                src.get(b);
                return b;
            }
            int elements = src.remaining() / (c.natural().bits() / 8);
            ByteBuffer dst =
                    ByteBuffer.allocate(elements * (c.stored().bits() / 8)).order(ByteOrder.LITTLE_ENDIAN);
            FloatConversion.convert(c.natural(), c.stored(), src, dst);
            return dst.array();
        }
    }
}
