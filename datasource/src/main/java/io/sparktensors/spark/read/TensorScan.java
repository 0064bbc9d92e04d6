package io.sparktensors.spark.read;

import io.sparktensors.checkpoint.ReadSplit;
import io.sparktensors.checkpoint.ScanPlan;
import io.sparktensors.checkpoint.ScanPlanner;
import io.sparktensors.io.HadoopFileStore;
import io.sparktensors.spark.ComputedColumns;
import io.sparktensors.spark.ConfBroadcasts;
import io.sparktensors.spark.PlannedTensorScan;
import io.sparktensors.spark.TensorColumns;
import io.sparktensors.spark.read.metrics.TensorScanMetrics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.connector.metric.CustomMetric;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;
import org.apache.spark.sql.connector.read.Batch;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.types.StructType;

/** A planned batch scan of tensor files. Plans once, lazily, when Spark asks for partitions. */
final class TensorScan implements Scan, Batch, PlannedTensorScan, ComputedColumns.ComputingScan {
    private final SparkSession spark;
    private final TensorReadConf conf;
    private final Configuration hadoopConf;
    private final StructType requiredSchema;
    private final TensorFilters filters;
    private ScanPlan plan;
    private TensorReaderFactory readerFactory;

    TensorScan(
            SparkSession spark,
            TensorReadConf conf,
            Configuration hadoopConf,
            StructType requiredSchema,
            TensorFilters filters) {
        this.spark = spark;
        this.conf = conf;
        this.hadoopConf = hadoopConf;
        this.requiredSchema = requiredSchema;
        this.filters = filters;
    }

    @Override
    public StructType readSchema() {
        return requiredSchema;
    }

    @Override
    public Scan withReadSchema(StructType schema) {
        return new TensorScan(spark, conf, hadoopConf, schema, filters);
    }

    @Override
    public String description() {
        return "TensorScan " + conf.paths() + " columns=" + List.of(requiredSchema.fieldNames()) + " pushedFilters="
                + List.of(filters.pushed());
    }

    @Override
    public Batch toBatch() {
        return this;
    }

    @Override
    public synchronized ScanPlan plan() {
        if (plan == null) {
            // Computed columns are computed from the bytes, so they need the byte ranges planned too.
            boolean readData = requiredSchema.getFieldIndex(TensorColumns.DATA).isDefined()
                    || ComputedVectors.computes(requiredSchema);
            ScanPlanner planner = new ScanPlanner(conf.paths(), conf.scanOptions(), new HadoopFileStore(hadoopConf));
            try {
                plan = planner.plan(
                        filters.predicate(), readData, spark.sparkContext().defaultParallelism());
            } catch (IOException e) {
                throw new UncheckedIOException(e.getMessage(), e);
            }
        }
        return plan;
    }

    /**
     * Whether the scan delivers every planned tensor whole, so a writer may copy the planned runs instead of
     * reading rows: not when corrupt or missing files are skipped while reading, and only with tensor data.
     */
    @Override
    public boolean deliversWholeTensors() {
        return !conf.ignoreCorruptFiles()
                && !conf.ignoreMissingFiles()
                && requiredSchema.getFieldIndex(TensorColumns.DATA).isDefined();
    }

    @Override
    public InputPartition[] planInputPartitions() {
        List<ReadSplit> splits = plan().splits();
        InputPartition[] partitions = new InputPartition[splits.size()];
        for (int i = 0; i < partitions.length; i++) {
            partitions[i] = new TensorInputPartition(splits.get(i));
        }
        return partitions;
    }

    @Override
    public synchronized PartitionReaderFactory createReaderFactory() {
        if (readerFactory == null) {
            var broadcast = ConfBroadcasts.of(spark.sparkContext(), hadoopConf);
            readerFactory = new TensorReaderFactory(new TensorReadContext(
                    requiredSchema,
                    conf.batchRows(),
                    conf.batchBytes(),
                    conf.ignoreCorruptFiles(),
                    conf.ignoreMissingFiles(),
                    broadcast));
        }
        return readerFactory;
    }

    @Override
    public CustomMetric[] supportedCustomMetrics() {
        return TensorScanMetrics.all();
    }

    @Override
    public CustomTaskMetric[] reportDriverMetrics() {
        ScanPlan p = plan();
        return new CustomTaskMetric[] {
            TensorScanMetrics.value(TensorScanMetrics.HEADER_BYTES, p.headerBytes()),
            TensorScanMetrics.value(TensorScanMetrics.HEADER_READS, p.headerReads()),
            TensorScanMetrics.value(TensorScanMetrics.FILES_PLANNED, p.files()),
            TensorScanMetrics.value(TensorScanMetrics.TENSORS_PLANNED, p.tensors()),
        };
    }
}
