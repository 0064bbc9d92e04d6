package io.sparktensors.spark.source;

import io.sparktensors.spark.read.DatasetFiles;
import io.sparktensors.spark.read.DatasetScan;
import io.sparktensors.spark.read.TensorReadConf;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.connector.catalog.SupportsRead;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/** Training data written with {@code layout=dataset} or {@code kv}, as the rows that were written. */
final class DatasetTable implements SupportsRead {
    private final String layout;
    private final List<DatasetFiles.Listed> files;
    private final StructType schema;
    private final TensorReadConf conf;
    private final Configuration hadoopConf;

    DatasetTable(
            String layout,
            List<DatasetFiles.Listed> files,
            StructType schema,
            TensorReadConf conf,
            Configuration hadoopConf) {
        this.layout = layout;
        this.files = files;
        this.schema = schema;
        this.conf = conf;
        this.hadoopConf = hadoopConf;
    }

    @Override
    public String name() {
        return "safetensors " + layout + " " + conf.paths();
    }

    @Override
    public StructType schema() {
        return schema;
    }

    @Override
    public Set<TableCapability> capabilities() {
        return Set.of(TableCapability.BATCH_READ);
    }

    @Override
    public ScanBuilder newScanBuilder(CaseInsensitiveStringMap options) {
        return new DatasetScan(layout, files, schema, conf, hadoopConf);
    }
}
