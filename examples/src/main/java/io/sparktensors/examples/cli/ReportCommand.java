package io.sparktensors.examples.cli;

import io.sparktensors.examples.Report;
import java.io.PrintStream;
import java.nio.file.Paths;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/** {@code spark-tensors report PATH}: one HTML page about a checkpoint. */
final class ReportCommand extends Command {
    ReportCommand() {
        super(
                "report",
                List.of("PATH"),
                "one HTML page: parameters by layer and dtype, norms across depth, NaN/Inf findings, value histograms;"
                        + " with --against, what changed as a heatmap",
                List.of(
                        Flag.value("--out", "FILE", "report.html", "where to write the page"),
                        Flag.repeated("--histogram", "NAME", "also draw the value histogram of this tensor"),
                        Flag.value(
                                "--against",
                                "OTHER",
                                null,
                                "also show what changed from PATH to checkpoint OTHER: ||A-B||/||A|| per layer and"
                                        + " module as a heatmap"),
                        readOption()));
    }

    @Override
    public int run(Args args, PrintStream out) throws Exception {
        String output = args.get("--out");
        var options = args.keyValues("--option");
        try (SparkSession spark = session(name())) {
            String against = args.get("--against");
            List<String> paths = against == null ? List.of(args.positional(0)) : List.of(args.positional(0), against);
            try (Progress progress = Progress.start(spark, paths, System.err)) {
                Report.write(spark, args.positional(0), against, Paths.get(output), args.all("--histogram"), options);
            }
            out.println("wrote " + output);
        }
        return 0;
    }
}
