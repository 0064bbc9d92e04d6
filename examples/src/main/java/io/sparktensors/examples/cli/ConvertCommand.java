package io.sparktensors.examples.cli;

import io.sparktensors.examples.Convert;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/** {@code spark-tensors convert SRC DST}: any checkpoint format to HF safetensors. */
final class ConvertCommand extends Command {
    ConvertCommand() {
        super(
                "convert",
                List.of("SRC", "DST"),
                "any checkpoint format to HF safetensors (the re-shard job's flags too)",
                convertFlags());
    }

    private static List<Flag> convertFlags() {
        List<Flag> flags = new ArrayList<>();
        flags.add(Flag.value("--format", "F", null, "the source format when the file names do not tell it"));
        flags.add(Flag.bool("--verify", "afterwards, compare every tensor's bytes with its source"));
        flags.addAll(ReshardCommand.FLAGS);
        return flags;
    }

    @Override
    public int run(Args args, PrintStream out) throws Exception {
        var options = ReshardCommand.options(args);
        try (SparkSession spark = session(name())) {
            try (Progress progress = Progress.start(spark, List.of(args.positional(0)), System.err)) {
                return Convert.run(
                        spark,
                        args.positional(0),
                        args.positional(1),
                        args.get("--format"),
                        args.has("--verify"),
                        options,
                        out);
            }
        }
    }
}
