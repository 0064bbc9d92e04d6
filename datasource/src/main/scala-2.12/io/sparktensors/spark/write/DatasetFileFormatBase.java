package io.sparktensors.spark.write;

import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.datasources.FileFormat;
import org.apache.spark.sql.types.StructType;

/**
 * {@link FileFormat#inferSchema} for Scala 2.12, whose file list is {@code scala.collection.Seq}: the dataset format only
 * writes (reads go through the DataSource V2 table), so there is no schema to infer. One of two copies
 * (src/main/scala-2.12, -2.13).
 */
abstract class DatasetFileFormatBase implements FileFormat {
    @Override
    public scala.Option<StructType> inferSchema(
            SparkSession spark,
            scala.collection.immutable.Map<String, String> options,
            scala.collection.Seq<FileStatus> files) {
        return scala.Option.empty();
    }
}
