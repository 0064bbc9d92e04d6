package io.sparktensors.examples.cli;

import io.sparktensors.checkpoint.ByteSizes;
import io.sparktensors.examples.WriteBenchmark;
import java.io.PrintStream;
import java.nio.file.Paths;
import java.util.List;
import org.apache.spark.network.util.JavaUtils;
import org.apache.spark.sql.SparkSession;

/** {@code spark-tensors bench-write}: cp -r against the re-shard job and the DataFrame writer. */
final class BenchWriteCommand extends Command {
    BenchWriteCommand() {
        super(
                "bench-write",
                List.of(),
                "times cp -r against the re-shard job and the DataFrame writer on one checkpoint",
                List.of(
                        Flag.value("--size", "SIZE", "2g", "the synthetic checkpoint's size"),
                        Flag.value("--shard-size", "SIZE", "500m", "its shard size"),
                        Flag.value("--max-shard-size", "SIZE", "1GB", "the shard size to write"),
                        Flag.value("--dir", "DIR", "target/bench-write", "where to write"),
                        Flag.value("--repeats", "N", "5", "timed runs (best of N)"),
                        Flag.bool("--skip-writer", "time cp -r and the re-shard job only"),
                        Flag.value("--source", "CHECKPOINT", null, "convert this checkpoint of any format instead")));
    }

    @Override
    public int run(Args args, PrintStream out) throws Exception {
        String source = args.get("--source");
        WriteBenchmark.Settings settings = new WriteBenchmark.Settings(
                args.get("--size", JavaUtils::byteStringAsBytes),
                args.get("--shard-size", JavaUtils::byteStringAsBytes),
                Paths.get(args.get("--dir")),
                args.get("--max-shard-size", ByteSizes::parse),
                args.has("--skip-writer"),
                args.get("--repeats", Integer::parseInt),
                source == null ? null : Paths.get(source));
        try (SparkSession spark = session(name())) {
            WriteBenchmark.run(spark, settings, out);
        }
        return 0;
    }
}
