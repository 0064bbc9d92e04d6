package io.sparktensors.testing;

import io.sparktensors.spark.compat.ScalaCollections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.datasources.v2.BatchScanExec;
import org.apache.spark.sql.execution.metric.SQLMetric;

/** Local Spark sessions for tests, and access to a finished query's scan metrics. */
public final class SparkSessions {
    private SparkSessions() {}

    /** A local[2] session with quiet defaults; adaptive execution is off so plans stay inspectable. */
    public static SparkSession local(String app) {
        return local(app, "local[2]");
    }

    /** A session on {@code master}, e.g. {@code local[2,4]} to let failed tasks retry. */
    public static SparkSession local(String app, String master) {
        return builder(app, master).getOrCreate();
    }

    /** The builder behind {@link #local}, for tests that add settings. */
    public static SparkSession.Builder builder(String app, String master) {
        String tmp = System.getProperty("java.io.tmpdir");
        return SparkSession.builder()
                .appName(app)
                .master(master)
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.sql.adaptive.enabled", "false")
                .config("spark.local.dir", tmp)
                .config("spark.sql.warehouse.dir", tmp + "/warehouse")
                .config("spark.driver.host", "127.0.0.1");
    }

    /** The custom metrics of the single tensor scan in the executed plan of {@code df} (run it first). */
    public static Map<String, Long> scanMetrics(Dataset<Row> df) {
        SparkPlan plan = df.queryExecution().executedPlan();
        List<SparkPlan> leaves = ScalaCollections.asJava(plan.collectLeaves());
        for (SparkPlan leaf : leaves) {
            if (leaf instanceof BatchScanExec scan) {
                Map<String, Long> out = new HashMap<>();
                Map<String, SQLMetric> metrics = ScalaCollections.asJava(scan.metrics());
                metrics.forEach((k, v) -> out.put(k, v.value()));
                return out;
            }
        }
        throw new AssertionError("no BatchScanExec in " + plan);
    }

    /** Each tensor's SHA-256 (chunks joined in order), by name, computed on the executors. */
    public static Map<String, String> tensorHashes(Dataset<Row> tensors) {
        Map<String, String> out = new java.util.TreeMap<>();
        for (Row r :
                io.sparktensors.spark.functions.TensorHashes.sha256(tensors).collectAsList()) {
            out.put(r.getString(0), r.getString(1));
        }
        return out;
    }
}
