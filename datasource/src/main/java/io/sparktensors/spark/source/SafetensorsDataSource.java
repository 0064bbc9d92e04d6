package io.sparktensors.spark.source;

import io.sparktensors.checkpoint.CheckpointFormat;
import io.sparktensors.errors.TensorErrors;
import io.sparktensors.spark.DatasetLayout;
import io.sparktensors.spark.HadoopConfs;
import io.sparktensors.spark.TensorColumns;
import io.sparktensors.spark.compat.ScalaCollections;
import io.sparktensors.spark.read.DatasetFiles;
import io.sparktensors.spark.read.TensorReadConf;
import io.sparktensors.spark.read.TensorReadOptions;
import io.sparktensors.spark.write.DatasetWriteJob;
import io.sparktensors.spark.write.TensorWriteOptions;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SQLContext;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.sources.BaseRelation;
import org.apache.spark.sql.sources.CreatableRelationProvider;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

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

    @Override
    public StructType inferSchema(CaseInsensitiveStringMap options) {
        String layout = readLayout(options);
        if (layout == null) {
            return super.inferSchema(options);
        }
        List<DatasetFiles.Listed> files = listDataset(options);
        if (files == null) { // df.write asks too, before the folder exists: the tensor table, which only reads
            return super.inferSchema(options);
        }
        if (files.isEmpty()) {
            throw TensorErrors.missing(
                    "a safetensors file under " + options.get("path"),
                    "Write the " + layout + " first, or read another folder");
        }
        return DatasetFiles.schema(files.get(0), layout);
    }

    @Override
    public Table getTable(StructType schema, Transform[] partitioning, Map<String, String> properties) {
        CaseInsensitiveStringMap options = new CaseInsensitiveStringMap(properties);
        String layout = readLayout(options);
        List<DatasetFiles.Listed> files = layout == null ? null : listDataset(options);
        if (files == null) {
            return super.getTable(schema, partitioning, properties);
        }
        SparkSession spark = SparkSession.active();
        TensorReadConf conf = TensorReadConf.parse(options, format());
        return new DatasetTable(layout, files, schema, conf, HadoopConfs.of(spark, options));
    }

    /** The {@code layout} read option: null (tensors), dataset or kv. */
    private static String readLayout(CaseInsensitiveStringMap options) {
        String layout = options.get("layout");
        if (layout == null || layout.equalsIgnoreCase(DatasetLayout.CHECKPOINT)) {
            return null;
        }
        String l = layout.trim().toLowerCase(java.util.Locale.ROOT);
        if (!l.equals(DatasetLayout.DATASET) && !l.equals(DatasetLayout.KV)) {
            throw TensorErrors.badOption("layout", layout, "checkpoint, dataset or kv");
        }
        return l;
    }

    /** The dataset's files with their headers, or null when the path does not exist. */
    private static List<DatasetFiles.Listed> listDataset(CaseInsensitiveStringMap options) {
        SparkSession spark = SparkSession.active();
        TensorReadConf conf = TensorReadConf.parse(options, CheckpointFormat.SAFETENSORS);
        if (conf.paths().size() != 1) {
            throw TensorErrors.missing("one folder", "Read a dataset with load(folder)");
        }
        return DatasetFiles.list(conf.paths().get(0), HadoopConfs.of(spark, options), conf.maxHeaderBytes());
    }

    /**
     * {@code df.write.format("safetensors").mode(m).save(path)}: a Hugging Face checkpoint (see
     * {@link TensorWriteOptions}). Spark routes every save mode here, so errorifexists, ignore and overwrite
     * behave as users expect of a file source; append is refused. Option {@code layout} ({@code dataset},
     * {@code kv}) writes a DataFrame of features as training data instead (see {@link DatasetWriteJob}).
     */
    @Override
    public BaseRelation createRelation(
            SQLContext sqlContext,
            SaveMode mode,
            scala.collection.immutable.Map<String, String> parameters,
            Dataset<Row> data) {
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
