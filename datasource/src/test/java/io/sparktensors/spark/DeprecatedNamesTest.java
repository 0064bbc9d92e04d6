package io.sparktensors.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparktensors.testing.Fixtures;
import io.sparktensors.testing.SparkTestBase;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Code written against the names the classes had before the Spark binding was split into rooms still runs. */
@SuppressWarnings({"deprecation", "removal"})
class DeprecatedNamesTest extends SparkTestBase {
    @TempDir
    Path dir;

    @Test
    void theFormerDataSourceClassNamesStillRead() {
        String src = Fixtures.reference("tiny-llama-sharded").toString();
        List<Row> byShortName = spark.read()
                .format("safetensors")
                .load(src)
                .select("name", "shape")
                .orderBy("name")
                .collectAsList();
        List<Row> byFormerName = spark.read()
                .format(SafetensorsDataSource.class.getName())
                .load(src)
                .select("name", "shape")
                .orderBy("name")
                .collectAsList();
        assertEquals(byShortName, byFormerName);
        assertEquals(
                byShortName,
                spark.read()
                        .format(TensorsDataSource.class.getName())
                        .load(src)
                        .select("name", "shape")
                        .orderBy("name")
                        .collectAsList());
    }

    @Test
    void theFormerReshardAndHashEntryPointsStillRun() {
        String src = Fixtures.reference("tiny-llama-sharded").toString();
        CheckpointReshard.Result result = CheckpointReshard.run(
                spark, src, dir.resolve("out").toString(), io.sparktensors.spark.reshard.ReshardOptions.defaults());
        assertEquals(1, result.files().size());
        List<Row> before = TensorHashes.sha256(
                        spark.read().format("safetensors").load(src))
                .orderBy("name")
                .collectAsList();
        List<Row> after = TensorHashes.sha256(spark.read().format("safetensors").load(result.target()))
                .orderBy("name")
                .collectAsList();
        assertEquals(before, after);
    }
}
