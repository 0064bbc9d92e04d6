package io.sparktensors.spark;

import java.util.Map;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SQLContext;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.sources.BaseRelation;
import org.apache.spark.sql.sources.CreatableRelationProvider;
import org.apache.spark.sql.sources.DataSourceRegister;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;
import scala.jdk.javaapi.CollectionConverters;

/**
 * {@code spark.read.format("safetensors")}: safetensors files, folders, globs and Hugging Face checkpoint
 * folders as a table of tensors (see {@link TensorColumns} for the rows and {@link TensorReadOptions} for
 * the options); and {@code df.write.format("safetensors")}, which writes them back as a checkpoint.
 */
public final class SafetensorsDataSource implements TableProvider, DataSourceRegister, CreatableRelationProvider {
  public static final String SHORT_NAME = "safetensors";

  @Override
  public String shortName() {
    return SHORT_NAME;
  }

  @Override
  public StructType inferSchema(CaseInsensitiveStringMap options) {
    return TensorColumns.SCHEMA;
  }

  /**
   * {@code df.write.format("safetensors").mode(m).save(path)}: a Hugging Face checkpoint (see
   * {@link TensorWriteOptions}). Spark routes every save mode here, so errorifexists, ignore and overwrite
   * behave as users expect of a file source; append is refused.
   */
  @Override
  public BaseRelation createRelation(SQLContext sqlContext, SaveMode mode,
      scala.collection.immutable.Map<String, String> parameters, Dataset<Row> data) {
    CheckpointWriteJob.write(sqlContext.sparkSession(), mode, CollectionConverters.asJava(parameters), data);
    StructType schema = data.schema();
    return new BaseRelation() {
      @Override
      public SQLContext sqlContext() {
        return sqlContext;
      }

      @Override
      public StructType schema() {
        return schema;
      }
    };
  }

  @Override
  public Table getTable(StructType schema, Transform[] partitioning, Map<String, String> properties) {
    String path = properties.getOrDefault("paths", properties.getOrDefault("path", ""));
    return new TensorTable(SHORT_NAME + " " + path);
  }
}
