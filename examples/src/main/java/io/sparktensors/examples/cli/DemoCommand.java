package io.sparktensors.examples.cli;

import io.sparktensors.examples.Demo;
import java.io.PrintStream;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/** {@code spark-tensors demo}: the main job on the bundled checkpoint. */
final class DemoCommand extends Command {
    DemoCommand() {
        super(
                "demo",
                List.of(),
                "the main job on the bundled checkpoint: tensors, hashes, parameters per layer",
                List.of());
    }

    @Override
    public int run(Args args, PrintStream out) throws Exception {
        try (SparkSession spark = session(name())) {
            Demo.run(spark, out);
        }
        return 0;
    }
}
