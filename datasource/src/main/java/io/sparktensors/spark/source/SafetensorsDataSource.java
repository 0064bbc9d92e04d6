package io.sparktensors.spark.source;
import io.sparktensors.spark.write.TensorWriteOptions;
import io.sparktensors.spark.write.DatasetWriteJob;
import io.sparktensors.spark.read.TensorReadOptions;
import io.sparktensors.spark.TensorColumns;

import io.sparktensors.checkpoint.CheckpointFormat;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SQLContext;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.sources.BaseRelation;
import org.apache.spark.sql.sources.CreatableRelationProvider;
import org.apache.spark.sql.types.StructType;
import io.sparktensors.spark.compat.ScalaCollections;

/**
 * {@code spark.read.format("safetensors")}: safetensors files, folders, globs and Hugging Face checkpoint
 * folders as a table of tensors (see {@link TensorColumns} for the rows and {@link TensorReadOptions} for
 * the options); and {@code df.write.format("safetensors")}, which writes them back as a checkpoint.
 */
public class SafetensorsDataSource extends TensorSource implements CreatableRelationProvider {
  public static final String SHORT_NAME = "safetensors";

  @Override
  public String shortName() {
    return SHORT_NAME;
  }

  @Override
  protected CheckpointFormat format() {
    return CheckpointFormat.SAFETENSORS;
  }

  /**
   * {@code df.write.format("safetensors").mode(m).save(path)}: a Hugging Face checkpoint (see
   * {@link TensorWriteOptions}). Spark routes every save mode here, so errorifexists, ignore and overwrite
   * behave as users expect of a file source; append is refused. Option {@code layout} ({@code dataset},
   * {@code kv}) writes a DataFrame of features as training data instead (see {@link DatasetWriteJob}).
   */
  @Override
  public BaseRelation createRelation(SQLContext sqlContext, SaveMode mode,
      scala.collection.immutable.Map<String, String> parameters, Dataset<Row> data) {
    DatasetWriteJob.write(sqlContext.sparkSession(), mode, ScalaCollections.asJava(parameters), data);
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
}
