package io.sparktensors.spark.read;

import io.sparktensors.spark.TensorColumns;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.connector.read.SupportsPushDownFilters;
import org.apache.spark.sql.connector.read.SupportsPushDownRequiredColumns;
import org.apache.spark.sql.sources.Filter;
import org.apache.spark.sql.types.StructType;

/** Takes the columns and filters Spark pushes down, then builds the scan. */
public final class TensorScanBuilder implements ScanBuilder, SupportsPushDownRequiredColumns, SupportsPushDownFilters {
    private final SparkSession spark;
    private final TensorReadConf conf;
    private final Configuration hadoopConf;
    private StructType requiredSchema = TensorColumns.SCHEMA;
    private TensorFilters filters = TensorFilters.none();

    public TensorScanBuilder(SparkSession spark, TensorReadConf conf, Configuration hadoopConf) {
        this.spark = spark;
        this.conf = conf;
        this.hadoopConf = hadoopConf;
    }

    @Override
    public void pruneColumns(StructType required) {
        this.requiredSchema = required;
    }

    /** Keeps what it can evaluate on headers; Spark re-applies every filter to the rows. */
    @Override
    public Filter[] pushFilters(Filter[] all) {
        this.filters = TensorFilters.of(all);
        return all;
    }

    @Override
    public Filter[] pushedFilters() {
        return filters.pushed();
    }

    @Override
    public Scan build() {
        return new TensorScan(spark, conf, hadoopConf, requiredSchema, filters);
    }
}
