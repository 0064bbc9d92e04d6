package io.sparktensors.spark;

import io.sparktensors.checkpoint.CheckpointFormat;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.connector.catalog.SupportsRead;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;
import scala.jdk.javaapi.CollectionConverters;

/** The tensors of one or more files or checkpoints, as a table. */
final class TensorTable implements SupportsRead {
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

  @Override
  public Set<TableCapability> capabilities() {
    return Set.of(TableCapability.BATCH_READ);
  }

  @Override
  public ScanBuilder newScanBuilder(CaseInsensitiveStringMap options) {
    SparkSession spark = SparkSession.active();
    return new TensorScanBuilder(spark, TensorReadConf.parse(options, format), hadoopConf(spark, options));
  }

  /** As Spark's file sources do: the context's Hadoop settings, then session SQL settings, then the options. */
  static Configuration hadoopConf(SparkSession spark, Map<String, String> options) {
    Configuration conf = new Configuration(spark.sparkContext().hadoopConfiguration());
    CollectionConverters.asJava(spark.conf().getAll()).forEach((k, v) -> {
      if (v != null) {
        conf.set(k, v);
      }
    });
    options.forEach((k, v) -> {
      if (v != null && !k.equalsIgnoreCase("path") && !k.equalsIgnoreCase("paths")) {
        conf.set(k, v);
      }
    });
    return conf;
  }
}
