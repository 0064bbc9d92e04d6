package io.sparktensors.spark.write;

import io.sparktensors.errors.TensorErrors;
import io.sparktensors.spark.compat.ScalaCollections;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.mapreduce.Job;
import org.apache.hadoop.mapreduce.TaskAttemptContext;
import org.apache.hadoop.mapreduce.lib.output.FileOutputCommitter;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.datasources.OutputWriter;
import org.apache.spark.sql.execution.datasources.OutputWriterFactory;
import org.apache.spark.sql.types.StructType;

/**
 * The {@code layout=dataset} write as a Spark file format. Why a V1 {@code FileFormat} and not a DataSource V2
 * write like the checkpoint's: a dataset is a folder of independent part files, exactly what Spark's own file
 * sources write, so {@code df.write} through a FileFormat gets everything Parquet has for free and unchanged:
 * {@code partitionBy} folders ({@code k=v/}), save modes, the {@code FileCommitProtocol} (task attempts write
 * under {@code _temporary}, only committed attempts are published, aborted jobs leave no files), the
 * {@code _SUCCESS} marker, and the same behaviour on HDFS and S3 committers. A V2 {@code BatchWrite} would
 * have to rebuild each of those. Write-only: reads go through the V2 table, which can split one file's rows
 * across tasks. The driver hands the parsed options over by job id ({@link DatasetWriteJob#PENDING}). Its
 * committer, {@link DatasetOutputCommitter}, adds the checks across tasks and the deferred overwrite.
 */
public final class DatasetFileFormat extends DatasetFileFormatBase {
    /** {@code SQLConf.OUTPUT_COMMITTER_CLASS}: the Hadoop committer Spark's SQL commit protocol uses. */
    static final String OUTPUT_COMMITTER_CLASS = "spark.sql.sources.outputCommitterClass";

    @Override
    public OutputWriterFactory prepareWrite(
            SparkSession spark,
            Job job,
            scala.collection.immutable.Map<String, String> options,
            StructType dataSchema) {
        String id = ScalaCollections.asJava(options).get(DatasetWriteJob.JOB_ID);
        DatasetWriteConf conf = id == null ? null : DatasetWriteJob.PENDING.get(id);
        if (conf == null) {
            throw TensorErrors.missing(
                    "the dataset write's settings",
                    "Write with df.write.format(\"safetensors\")"
                            + ".option(\"layout\", \"dataset\"), not with this class directly");
        }
        // Spark's commit protocol runs the committer a job names (as for Parquet): the dataset's checks the
        // tasks' shapes against each other and defers an overwrite's deletes to the job commit. Algorithm 1
        // keeps task output unpublished until then.
        Configuration hadoop = job.getConfiguration();
        hadoop.set(OUTPUT_COMMITTER_CLASS, DatasetOutputCommitter.class.getName());
        hadoop.setInt(FileOutputCommitter.FILEOUTPUTCOMMITTER_ALGORITHM_VERSION, 1);
        hadoop.set(DatasetWriteJob.JOB_ID, id);
        String overwrite = ScalaCollections.asJava(options).get(DatasetOutputCommitter.OVERWRITE);
        if (overwrite != null) {
            hadoop.set(DatasetOutputCommitter.OVERWRITE, overwrite);
        }
        return new Factory(conf);
    }

    @Override
    public String toString() {
        return "safetensors-dataset";
    }

    /** Makes one {@link DatasetOutputWriter} per file Spark opens; shipped to the tasks. */
    static final class Factory extends OutputWriterFactory {
        private static final long serialVersionUID = 1L;
        private final DatasetWriteConf conf;

        Factory(DatasetWriteConf conf) {
            this.conf = conf;
        }

        @Override
        public String getFileExtension(TaskAttemptContext context) {
            return ".safetensors";
        }

        @Override
        public OutputWriter newInstance(String path, StructType dataSchema, TaskAttemptContext context) {
            return new DatasetOutputWriter(path, conf, context.getConfiguration());
        }
    }
}
