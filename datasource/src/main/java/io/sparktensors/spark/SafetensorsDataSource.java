package io.sparktensors.spark;

import java.util.Map;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.sources.DataSourceRegister;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * {@code spark.read.format("safetensors")}: safetensors files, folders, globs and Hugging Face checkpoint
 * folders as a table of tensors. See {@link TensorColumns} for the rows and {@link TensorReadOptions} for
 * the options.
 */
public final class SafetensorsDataSource implements TableProvider, DataSourceRegister {
  public static final String SHORT_NAME = "safetensors";

  @Override
  public String shortName() {
    return SHORT_NAME;
  }

  @Override
  public StructType inferSchema(CaseInsensitiveStringMap options) {
    return TensorColumns.SCHEMA;
  }

  @Override
  public Table getTable(StructType schema, Transform[] partitioning, Map<String, String> properties) {
    String path = properties.getOrDefault("paths", properties.getOrDefault("path", ""));
    return new TensorTable(SHORT_NAME + " " + path);
  }
}
