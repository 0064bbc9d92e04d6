package io.sparktensors.spark.functions;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparktensors.testing.SparkSessions;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/** A session started with the extension has the functions without a register call. */
class TensorExtensionsTest {

    @Test
    void theSessionExtensionRegistersTheFunctions() {
        SparkSession spark = SparkSessions.builder("TensorExtensionsTest", "local[1]")
                .config("spark.sql.extensions", TensorExtensions.class.getName())
                .getOrCreate();
        try {
            Row r = spark.sql("SELECT tensor_stats(X'0000803F00000040', 'F32').mean, "
                            + "tensor_to_array(X'803F', 'BF16')")
                    .first();
            assertEquals(1.5, r.getDouble(0));
            assertEquals(java.util.List.of(1.0f), r.getList(1));
        } finally {
            spark.stop();
        }
    }
}
