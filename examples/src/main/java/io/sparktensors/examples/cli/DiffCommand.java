package io.sparktensors.examples.cli;

import io.sparktensors.examples.Diff;
import java.io.PrintStream;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/** {@code spark-tensors diff A B}: two checkpoints compared tensor by tensor; exit 1 when they differ. */
final class DiffCommand extends Command {
    DiffCommand() {
        super(
                "diff",
                List.of("A", "B"),
                "two checkpoints of any formats compared tensor by tensor: names only in one, dtype and shape changes,"
                        + " value differences; exit 0 when equal (within T), else 1",
                List.of(
                        Flag.bool("--json", "print JSON instead of text"),
                        Flag.value("--tolerance", "T", "0", "the largest absolute difference still counted as equal"),
                        readOption()));
    }

    @Override
    public int run(Args args, PrintStream out) throws Exception {
        double tolerance = args.get("--tolerance", Double::parseDouble);
        var options = args.keyValues("--option");
        try (SparkSession spark = session(name())) {
            Diff.Result r;
            try (Progress progress =
                    Progress.start(spark, List.of(args.positional(0), args.positional(1)), System.err)) {
                r = Diff.compare(spark, args.positional(0), args.positional(1), tolerance, options);
            }
            if (args.has("--json")) {
                out.println(Diff.json(r));
            } else {
                Diff.print(r, out);
            }
            return r.equal() ? 0 : 1;
        }
    }
}
