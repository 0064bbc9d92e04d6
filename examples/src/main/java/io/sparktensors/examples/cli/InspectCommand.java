package io.sparktensors.examples.cli;

import io.sparktensors.examples.Inspect;
import io.sparktensors.spark.source.TensorsDataSource;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/** {@code spark-tensors inspect PATH}: what a checkpoint of any format holds. */
final class InspectCommand extends Command {
    InspectCommand() {
        super(
                "inspect",
                List.of("PATH"),
                "tensors, dtypes, shapes, bytes and files of a checkpoint of any format (told from the file names)",
                List.of(
                        Flag.bool("--json", "print JSON instead of a table"),
                        Flag.bool("--hash", "add each tensor's SHA-256"),
                        Flag.value("--format", "F", null, "the format when the file names do not tell it"),
                        readOption()));
    }

    @Override
    public int run(Args args, PrintStream out) throws Exception {
        Map<String, String> options = args.keyValues("--option");
        if (args.has("--format")) {
            options.put("format", args.get("--format"));
        }
        try (SparkSession spark = session(name())) {
            List<Inspect.TensorInfo> tensors = Inspect.tensors(
                    spark, TensorsDataSource.SHORT_NAME, args.positional(0), args.has("--hash"), options);
            if (args.has("--json")) {
                out.println(Inspect.json(tensors));
            } else {
                Inspect.printText(tensors, out);
            }
        }
        return 0;
    }
}
