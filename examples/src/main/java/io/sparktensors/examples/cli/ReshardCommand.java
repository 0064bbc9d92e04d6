package io.sparktensors.examples.cli;

import io.sparktensors.checkpoint.ByteSizes;
import io.sparktensors.format.DType;
import io.sparktensors.spark.reshard.CheckpointReshard;
import io.sparktensors.spark.reshard.ReshardOptions;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.apache.spark.sql.SparkSession;

/** {@code spark-tensors reshard SRC DST}: a new HF checkpoint with other shards, dtype, tensors or names. */
final class ReshardCommand extends Command {
    /** The flags of the re-shard job, which {@code convert} takes too. */
    static final List<Flag> FLAGS = List.of(
            Flag.value("--max-shard-size", "SIZE", "5GB", "the largest output shard, e.g. 2GB or 500MiB"),
            Flag.value("--dtype", "DTYPE", null, "convert floating-point tensors to F32, F16 or BF16"),
            Flag.value("--include", "REGEX", null, "keep only the tensors whose names match"),
            Flag.value("--exclude", "REGEX", null, "drop the tensors whose names match"),
            Flag.repeated("--rename", "REGEX=REPLACEMENT", "rewrite tensor names (applied in order)"),
            Flag.value("--prefix", "NAME", "model", "the output file prefix: NAME-00001-of-00003.safetensors"),
            Flag.bool("--overwrite", "replace what DST holds (else DST must not exist)"),
            readOption());

    ReshardCommand() {
        super(
                "reshard",
                List.of("SRC", "DST"),
                "a new HF safetensors checkpoint from SRC: other shard size, dtype, tensors or names",
                FLAGS);
    }

    @Override
    public int run(Args args, PrintStream out) throws Exception {
        ReshardOptions options = options(args);
        try (SparkSession spark = session(name())) {
            long t0 = System.nanoTime();
            CheckpointReshard.Result r;
            try (Progress progress = Progress.start(spark, List.of(args.positional(0)), System.err)) {
                r = CheckpointReshard.run(spark, args.positional(0), args.positional(1), options);
            }
            out.printf(
                    "wrote %d tensors (%,d bytes) in %d files to %s in %.1f s%n",
                    r.tensors(), r.bytes(), r.files().size(), r.target(), (System.nanoTime() - t0) / 1e9);
            r.files().forEach(f -> out.println("  " + f));
            if (!r.copiedFiles().isEmpty()) {
                out.println("copied beside it: " + String.join(", ", r.copiedFiles()));
            }
        }
        return 0;
    }

    /** The re-shard options from {@link #FLAGS}. */
    static ReshardOptions options(Args args) {
        ReshardOptions options = ReshardOptions.defaults()
                .withMaxShardSize(args.get("--max-shard-size", ByteSizes::parse))
                .withOverwrite(args.has("--overwrite"))
                .withReadOptions(args.keyValues("--option"))
                .withFilePrefix(args.get("--prefix"));
        DType dtype = args.get("--dtype", ReshardCommand::dtype);
        if (dtype != null) {
            options = options.withDtype(dtype);
        }
        String include = args.get("--include", ReshardCommand::regex);
        if (include != null) {
            options = options.withInclude(include);
        }
        String exclude = args.get("--exclude", ReshardCommand::regex);
        if (exclude != null) {
            options = options.withExclude(exclude);
        }
        for (String rename : args.all("--rename")) {
            options = options.withRename(Args.parse("--rename", rename, ReshardOptions.Rename::parse));
        }
        return options;
    }

    private static DType dtype(String code) {
        DType dtype = DType.fromCode(code.toUpperCase(Locale.ROOT));
        if (dtype == null) {
            throw new IllegalArgumentException("unknown dtype");
        }
        return dtype;
    }

    private static String regex(String regex) {
        Pattern.compile(regex);
        return regex;
    }
}
