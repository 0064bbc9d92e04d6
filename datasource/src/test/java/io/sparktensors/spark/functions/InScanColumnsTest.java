package io.sparktensors.spark.functions;

import io.sparktensors.testing.SparkSessions;
import org.junit.jupiter.api.BeforeAll;

/** The in-scan checks on a running session with the functions registered by call: the rule after pushdown. */
class InScanColumnsTest extends InScanColumnsChecks {
    @BeforeAll
    static void start() throws Exception {
        var session = SparkSessions.local("InScanColumnsTest");
        TensorFunctions.register(session);
        setUp(session);
    }
}
