package io.sparktensors.spark.functions;

import io.sparktensors.testing.SparkSessions;
import org.junit.jupiter.api.BeforeAll;

/** The in-scan checks on a session started with the extension: the rule before column pushdown. */
class InScanColumnsExtensionTest extends InScanColumnsChecks {
    @BeforeAll
    static void start() throws Exception {
        setUp(SparkSessions.builder("InScanColumnsExtensionTest", "local[2]")
                .config("spark.sql.extensions", TensorExtensions.class.getName())
                .getOrCreate());
    }
}
