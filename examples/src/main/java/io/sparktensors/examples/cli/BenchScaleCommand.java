package io.sparktensors.examples.cli;

import io.sparktensors.examples.ScaleBenchmark;
import java.io.PrintStream;
import java.nio.file.Paths;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/** {@code spark-tensors bench-scale}: listing and re-shard planning of a 700 GB MoE-shaped checkpoint. */
final class BenchScaleCommand extends Command {
    BenchScaleCommand() {
        super(
                "bench-scale",
                List.of(),
                "lists and plans a re-shard of a 700 GB MoE-shaped checkpoint of sparse files; driver time and heap",
                List.of(
                        Flag.value("--shards", "N", "160", "shard files"),
                        Flag.value("--tensors", "N", "100000", "tensors in all"),
                        Flag.value("--dir", "DIR", "target/bench-scale", "where to write the sparse files")));
    }

    @Override
    public int run(Args args, PrintStream out) throws Exception {
        int shards = args.get("--shards", Integer::parseInt);
        int tensors = args.get("--tensors", Integer::parseInt);
        try (SparkSession spark = session(name())) {
            ScaleBenchmark.run(spark, shards, tensors, Paths.get(args.get("--dir")), out);
        }
        return 0;
    }
}
