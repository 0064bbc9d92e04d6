package io.sparktensors.spark.source;

import io.sparktensors.checkpoint.CheckpointFormat;
import io.sparktensors.spark.TensorColumns;
import io.sparktensors.spark.read.TensorReadOptions;
import java.util.Map;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.sources.DataSourceRegister;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * A read source for one checkpoint format (or, for {@code format("tensors")}, for whatever format each file
 * name marks): the same table of tensors whatever the format (see {@link TensorColumns} for the rows and
 * {@link TensorReadOptions} for the options).
 */
public abstract class TensorSource implements TableProvider, DataSourceRegister {

    /** The format every file is read as, or null to tell it from each file's name. */
    protected abstract CheckpointFormat format();

    @Override
    public StructType inferSchema(CaseInsensitiveStringMap options) {
        return TensorColumns.SCHEMA;
    }

    @Override
    public Table getTable(StructType schema, Transform[] partitioning, Map<String, String> properties) {
        String path = properties.getOrDefault("paths", properties.getOrDefault("path", ""));
        return new TensorTable(shortName() + " " + path, format());
    }
}
