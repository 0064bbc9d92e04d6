package io.sparktensors.examples;

import io.sparktensors.checkpoint.ByteSizes;
import io.sparktensors.format.DType;
import io.sparktensors.spark.reshard.CheckpointReshard;
import io.sparktensors.spark.reshard.ReshardOptions;
import io.sparktensors.spark.source.TensorsDataSource;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/**
 * The {@code spark-tensors} command. Runs on an embedded local Spark unless started by spark-submit (which
 * sets {@code spark.master}).
 *
 * <pre>
 * spark-tensors demo
 * spark-tensors inspect PATH [--json] [--hash] [--format F] [--option KEY=VALUE]...
 * spark-tensors convert SRC DST [--format F] [--verify] [--max-shard-size 5GB] [--dtype BF16] ...
 * spark-tensors analyze PATH
 * spark-tensors report PATH [--out report.html] [--histogram NAME]...
 * spark-tensors diff A B [--json] [--tolerance T] [--option KEY=VALUE]...
 * spark-tensors reshard SRC DST [--max-shard-size 5GB] [--dtype BF16] [--include R] [--exclude R] [--rename R=S]
 * spark-tensors bench-write [--size 2g] [--shard-size 500m] [--dir target/bench-write]
 * spark-tensors bench-read [--size 2g] [--shard-size 500m] [--dir target/bench-read] [--repeats 3] [--cold] [--option K=V]
 * </pre>
 */
public final class SparkTensorsCli {
  static final String USAGE = """
      usage: spark-tensors <command> [options]
        demo                                   the main job on the bundled checkpoint
        inspect PATH [--json] [--hash] [--format F] [--option KEY=VALUE]...
                                               tensors, dtypes, shapes, bytes, files; --hash adds SHA-256
                                               (any format: told from the file names, or --format)
        diff A B [--json] [--tolerance T] [--option KEY=VALUE]...
                                               tensor by tensor: names only in one, dtype/shape changes,
                                               value differences; exit 0 when equal (within T), else 1
        analyze PATH [--java]                  the notebook questions of examples/sql/analysis.sql
                                               (--java: the same answers from the DataFrame API)
        report PATH [--out report.html] [--histogram NAME]... [--option KEY=VALUE]...
                                               one HTML page: parameters by layer and dtype, norms
                                               across depth, NaN/Inf findings, value histograms
        convert SRC DST [--format F] [--verify] [reshard options]
                                               any checkpoint format to HF safetensors; --verify compares
                                               every tensor's bytes with its source afterwards
        reshard SRC DST [--max-shard-size 5GB] [--dtype BF16] [--include REGEX] [--exclude REGEX]
                [--rename REGEX=REPLACEMENT]... [--prefix model] [--overwrite] [--option KEY=VALUE]...
                                               a new HF checkpoint from SRC: shard size, dtype, tensors, names
        bench-write [--size 2g] [--shard-size 500m] [--dir D] [--source CHECKPOINT]
                                               cp -r against the re-shard job and the DataFrame writer
                                               (--source: convert an existing checkpoint of any format)
        bench-functions [--mb 256] [--dir D]   tensor_stats GB/s per core on BF16 and F32
        bench-scale [--shards 160] [--tensors 100000] [--dir D]
                                               list and plan a 700 GB MoE-shaped checkpoint of sparse files
        bench-read [--size 2g] [--shard-size 500m] [--dir D] [--repeats 3] [--cold] [--option K=V]
                                               read throughput against raw reads and binaryFile
      """;

  private SparkTensorsCli() {}

  public static void main(String[] args) throws Exception {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs one command; returns the process exit status. */
  public static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
      out.print(USAGE);
      return args.length == 0 ? 2 : 0;
    }
    List<String> rest = new ArrayList<>(List.of(args).subList(1, args.length));
    try {
      switch (args[0]) {
        case "demo" -> {
          try (SparkSession spark = session("spark-tensors demo")) {
            Demo.run(spark, out);
          }
        }
        case "inspect" -> {
          boolean json = rest.remove("--json");
          boolean hash = rest.remove("--hash");
          String format = option(rest, "--format", null);
          Map<String, String> options = readOptions(rest);
          if (format != null) {
            options.put("format", format);
          }
          if (rest.size() != 1) {
            throw new IllegalArgumentException("inspect takes one PATH, got " + rest);
          }
          try (SparkSession spark = session("spark-tensors inspect")) {
            var tensors = Inspect.tensors(spark, TensorsDataSource.SHORT_NAME, rest.get(0), hash, options);
            if (json) {
              out.println(Inspect.json(tensors));
            } else {
              Inspect.printText(tensors, out);
            }
          }
        }
        case "reshard" -> {
          ReshardOptions options = reshardOptions(rest);
          if (rest.size() != 2) {
            throw new IllegalArgumentException("reshard takes SRC and DST, got " + rest);
          }
          try (SparkSession spark = session("spark-tensors reshard")) {
            long t0 = System.nanoTime();
            CheckpointReshard.Result r = CheckpointReshard.run(spark, rest.get(0), rest.get(1), options);
            out.printf("wrote %d tensors (%,d bytes) in %d files to %s in %.1f s%n", r.tensors(), r.bytes(),
                r.files().size(), r.target(), (System.nanoTime() - t0) / 1e9);
            r.files().forEach(f -> out.println("  " + f));
            if (!r.copiedFiles().isEmpty()) {
              out.println("copied beside it: " + String.join(", ", r.copiedFiles()));
            }
          }
        }
        case "convert" -> {
          String format = option(rest, "--format", null);
          boolean verify = rest.remove("--verify");
          ReshardOptions options = reshardOptions(rest);
          if (rest.size() != 2) {
            throw new IllegalArgumentException("convert takes SRC and DST, got " + rest);
          }
          try (SparkSession spark = session("spark-tensors convert")) {
            return Convert.run(spark, rest.get(0), rest.get(1), format, verify, options, out);
          }
        }
        case "diff" -> {
          boolean json = rest.remove("--json");
          double tolerance = Double.parseDouble(option(rest, "--tolerance", "0"));
          Map<String, String> options = readOptions(rest);
          if (rest.size() != 2) {
            throw new IllegalArgumentException("diff takes A and B, got " + rest);
          }
          try (SparkSession spark = session("spark-tensors diff")) {
            Diff.Result r = Diff.compare(spark, rest.get(0), rest.get(1), tolerance, options);
            if (json) {
              out.println(Diff.json(r));
            } else {
              Diff.print(r, out);
            }
            return r.equal() ? 0 : 1;
          }
        }
        case "analyze" -> {
          boolean java = rest.remove("--java");
          if (rest.size() != 1) {
            throw new IllegalArgumentException("analyze takes one PATH, got " + rest);
          }
          try (SparkSession spark = session("spark-tensors analyze")) {
            if (java) {
              AnalysisApi.print(spark, rest.get(0), out);
            } else {
              Analyze.run(spark, rest.get(0), out);
            }
          }
        }
        case "report" -> {
          String output = option(rest, "--out", "report.html");
          List<String> histograms = new ArrayList<>();
          for (String name; (name = option(rest, "--histogram", null)) != null; ) {
            histograms.add(name);
          }
          Map<String, String> options = readOptions(rest);
          if (rest.size() != 1) {
            throw new IllegalArgumentException("report takes one PATH, got " + rest);
          }
          try (SparkSession spark = session("spark-tensors report")) {
            Report.write(spark, rest.get(0), java.nio.file.Paths.get(output), histograms, options);
            out.println("wrote " + output);
          }
        }
        case "bench-write" -> {
          WriteBenchmark.Settings settings = WriteBenchmark.Settings.parse(rest);
          try (SparkSession spark = session("spark-tensors bench-write")) {
            WriteBenchmark.run(spark, settings, out);
          }
        }
        case "bench-functions" -> {
          try (SparkSession spark = session("spark-tensors bench-functions")) {
            FunctionsBenchmark.run(spark, rest, out);
          }
        }
        case "bench-scale" -> {
          try (SparkSession spark = session("spark-tensors bench-scale")) {
            ScaleBenchmark.run(spark, rest, out);
          }
        }
        case "bench-read" -> {
          ReadBenchmark.Settings settings = ReadBenchmark.Settings.parse(rest);
          try (SparkSession spark = session("spark-tensors bench-read")) {
            ReadBenchmark.run(spark, settings, out);
          }
        }
        default -> {
          err.print("unknown command '" + args[0] + "'\n" + USAGE);
          return 2;
        }
      }
      return 0;
    } catch (IllegalArgumentException e) {
      err.println("spark-tensors: " + e.getMessage());
      err.print(USAGE);
      return 2;
    }
  }

  /** Removes {@code --name value} from {@code args} and returns the value, or the fallback. */
  static String option(List<String> args, String name, String fallback) {
    int i = args.indexOf(name);
    if (i < 0) {
      return fallback;
    }
    if (i + 1 >= args.size()) {
      throw new IllegalArgumentException(name + " needs a value");
    }
    String value = args.remove(i + 1);
    args.remove(i);
    return value;
  }

  /** Removes the re-shard flags from {@code args}. */
  static ReshardOptions reshardOptions(List<String> args) {
    ReshardOptions options = ReshardOptions.defaults()
        .withMaxShardSize(ByteSizes.parse(option(args, "--max-shard-size", "5GB")))
        .withOverwrite(args.remove("--overwrite"))
        .withReadOptions(readOptions(args));
    String dtype = option(args, "--dtype", null);
    if (dtype != null) {
      DType target = DType.fromCode(dtype.toUpperCase(java.util.Locale.ROOT));
      if (target == null) {
        throw new IllegalArgumentException("unknown dtype " + dtype);
      }
      options = options.withDtype(target);
    }
    String include = option(args, "--include", null);
    if (include != null) {
      options = options.withInclude(include);
    }
    String exclude = option(args, "--exclude", null);
    if (exclude != null) {
      options = options.withExclude(exclude);
    }
    for (String rename; (rename = option(args, "--rename", null)) != null; ) {
      options = options.withRename(ReshardOptions.Rename.parse(rename));
    }
    String prefix = option(args, "--prefix", null);
    if (prefix != null) {
      options = options.withFilePrefix(prefix);
    }
    return options;
  }

  /** Removes every {@code --option KEY=VALUE} from {@code args}: read options for the source. */
  static Map<String, String> readOptions(List<String> args) {
    Map<String, String> options = new LinkedHashMap<>();
    for (String kv; (kv = option(args, "--option", null)) != null; ) {
      int eq = kv.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--option takes KEY=VALUE, got '" + kv + "'");
      }
      options.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    return options;
  }

  static SparkSession session(String app) {
    SparkSession.Builder builder = SparkSession.builder().appName(app);
    if (System.getProperty("spark.master") == null) {
      builder.master("local[*]").config("spark.ui.enabled", "false")
          .config("spark.sql.shuffle.partitions", "8");
    }
    return builder.getOrCreate();
  }
}
