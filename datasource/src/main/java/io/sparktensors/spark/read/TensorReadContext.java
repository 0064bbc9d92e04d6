package io.sparktensors.spark.read;

import io.sparktensors.spark.SerializableConfiguration;
import java.io.Serializable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.types.StructType;

/** What every read task of one scan shares: the columns wanted, batch limits and the Hadoop configuration. */
record TensorReadContext(
        StructType requiredSchema,
        int batchRows,
        long batchBytes,
        boolean ignoreCorruptFiles,
        boolean ignoreMissingFiles,
        Broadcast<SerializableConfiguration> hadoopConf)
        implements Serializable {

    Configuration configuration() {
        return hadoopConf.value().get();
    }
}
