package io.sparktensors.examples.cli;

import io.sparktensors.examples.AnalysisApi;
import io.sparktensors.examples.Analyze;
import java.io.PrintStream;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/** {@code spark-tensors analyze PATH}: the notebook questions of examples/sql/analysis.sql. */
final class AnalyzeCommand extends Command {
    AnalyzeCommand() {
        super(
                "analyze",
                List.of("PATH"),
                "the questions of examples/sql/analysis.sql, answered on PATH",
                List.of(Flag.bool("--java", "the same answers from the Java DataFrame API (AnalysisApi.java)")));
    }

    @Override
    public int run(Args args, PrintStream out) throws Exception {
        try (SparkSession spark = session(name())) {
            if (args.has("--java")) {
                AnalysisApi.print(spark, args.positional(0), out);
            } else {
                Analyze.run(spark, args.positional(0), out);
            }
        }
        return 0;
    }
}
