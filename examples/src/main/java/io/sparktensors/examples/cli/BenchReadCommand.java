package io.sparktensors.examples.cli;

import io.sparktensors.examples.ReadBenchmark;
import java.io.PrintStream;
import java.nio.file.Paths;
import java.util.List;
import org.apache.spark.network.util.JavaUtils;
import org.apache.spark.sql.SparkSession;

/** {@code spark-tensors bench-read}: read throughput against raw reads and binaryFile. */
final class BenchReadCommand extends Command {
    BenchReadCommand() {
        super(
                "bench-read",
                List.of(),
                "read throughput against raw parallel reads and Spark's binaryFile source",
                List.of(
                        Flag.value("--size", "SIZE", "2g", "the synthetic checkpoint's size"),
                        Flag.value("--shard-size", "SIZE", "500m", "its shard size"),
                        Flag.value("--dir", "DIR", "target/bench-read", "where to write it"),
                        Flag.value(
                                "--repeats",
                                "N",
                                "3",
                                "timed runs (best of N, after " + ReadBenchmark.WARM_UPS + " untimed)"),
                        Flag.bool("--cold", "drop the page cache before each run (needs root)"),
                        readOption()));
    }

    @Override
    public int run(Args args, PrintStream out) throws Exception {
        ReadBenchmark.Settings settings = new ReadBenchmark.Settings(
                args.get("--size", JavaUtils::byteStringAsBytes),
                args.get("--shard-size", JavaUtils::byteStringAsBytes),
                Paths.get(args.get("--dir")),
                args.get("--repeats", Integer::parseInt),
                args.has("--cold"),
                args.keyValues("--option"));
        try (SparkSession spark = session(name())) {
            ReadBenchmark.run(spark, settings, out);
        }
        return 0;
    }
}
