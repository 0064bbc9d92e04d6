package io.sparktensors.examples.cli;

import io.sparktensors.examples.FunctionsBenchmark;
import java.io.PrintStream;
import java.nio.file.Paths;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/** {@code spark-tensors bench-functions}: tensor_stats throughput per core. */
final class BenchFunctionsCommand extends Command {
    BenchFunctionsCommand() {
        super(
                "bench-functions",
                List.of(),
                "tensor_stats GB/s per core on BF16 and F32: the kernel alone, on every core and through Spark SQL"
                        + " over two sizes of checkpoint (with a query's fixed cost), timed in alternating rounds",
                List.of(
                        Flag.value(
                                "--mb",
                                "N",
                                "1024",
                                "MiB of values per dtype (the SQL checkpoints: four shards of them, and those listed twice)"),
                        Flag.value("--dir", "DIR", "target/bench-functions", "where to write the test files"),
                        Flag.value(
                                "--warm-ups",
                                "N",
                                Integer.toString(FunctionsBenchmark.WARM_UPS),
                                "untimed queries first, the two sizes in turn, while the JIT compiles Spark"),
                        readOption()));
    }

    @Override
    public int run(Args args, PrintStream out) throws Exception {
        int mb = args.get("--mb", Integer::parseInt);
        int warmUps = args.get("--warm-ups", Integer::parseInt);
        if (warmUps < 0) {
            throw new IllegalArgumentException("--warm-ups must be 0 or more, got " + warmUps);
        }
        try (SparkSession spark = session(name())) {
            FunctionsBenchmark.run(spark, mb, Paths.get(args.get("--dir")), args.keyValues("--option"), warmUps, out);
        }
        return 0;
    }
}
