package io.sparktensors.spark.source;

import io.sparktensors.checkpoint.CheckpointFormat;
import io.sparktensors.spark.ComputedColumns;
import io.sparktensors.spark.HadoopConfs;
import io.sparktensors.spark.TensorColumns;
import io.sparktensors.spark.read.TensorReadConf;
import io.sparktensors.spark.read.TensorScanBuilder;
import java.util.Set;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.connector.catalog.MetadataColumn;
import org.apache.spark.sql.connector.catalog.SupportsRead;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/** The tensors of one or more files or checkpoints, as a table. */
final class TensorTable implements SupportsRead, ComputedColumns.ComputingTable {
    private final String name;
    private final CheckpointFormat format;

    TensorTable(String name, CheckpointFormat format) {
        this.name = name;
        this.format = format;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public StructType schema() {
        return TensorColumns.SCHEMA;
    }

    /** {@code _stats} and {@code _sha256}: computed by the scan from the bytes it reads (see {@link ComputedColumns}). */
    @Override
    public MetadataColumn[] metadataColumns() {
        return ComputedColumns.metadataColumns();
    }

    @Override
    public Set<TableCapability> capabilities() {
        return Set.of(TableCapability.BATCH_READ);
    }

    @Override
    public ScanBuilder newScanBuilder(CaseInsensitiveStringMap options) {
        SparkSession spark = SparkSession.active();
        return new TensorScanBuilder(spark, TensorReadConf.parse(options, format), HadoopConfs.of(spark, options));
    }
}
