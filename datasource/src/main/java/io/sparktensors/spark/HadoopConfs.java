package io.sparktensors.spark;

import io.sparktensors.spark.compat.ScalaCollections;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;

/** The Hadoop configuration a read, write or re-shard uses. Driver-only. */
public final class HadoopConfs {
    private HadoopConfs() {}

    /** As Spark's file sources do: the context's Hadoop settings, then session SQL settings, then the options. */
    public static Configuration of(SparkSession spark, Map<String, String> options) {
        Configuration conf = new Configuration(spark.sparkContext().hadoopConfiguration());
        ScalaCollections.asJava(spark.conf().getAll()).forEach((k, v) -> {
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
