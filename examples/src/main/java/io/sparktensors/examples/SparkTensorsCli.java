package io.sparktensors.examples;

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
 * spark-tensors inspect PATH [--json] [--hash] [--format safetensors] [--option KEY=VALUE]...
 * spark-tensors bench-read [--size 2g] [--shard-size 500m] [--dir target/bench-read] [--repeats 3] [--cold] [--option K=V]
 * </pre>
 */
public final class SparkTensorsCli {
  static final String USAGE = """
      usage: spark-tensors <command> [options]
        demo                                   the main job on the bundled checkpoint
        inspect PATH [--json] [--hash] [--format F] [--option KEY=VALUE]...
                                               tensors, dtypes, shapes, bytes, files; --hash adds SHA-256
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
          String format = option(rest, "--format", "safetensors");
          Map<String, String> options = readOptions(rest);
          if (rest.size() != 1) {
            throw new IllegalArgumentException("inspect takes one PATH, got " + rest);
          }
          try (SparkSession spark = session("spark-tensors inspect")) {
            var tensors = Inspect.tensors(spark, format, rest.get(0), hash, options);
            if (json) {
              out.println(Inspect.json(tensors));
            } else {
              Inspect.printText(tensors, out);
            }
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

  /** Removes every {@code --option KEY=VALUE} from {@code args}: read options for the source. */
  static Map<String, String> readOptions(List<String> args) {
    Map<String, String> options = new LinkedHashMap<>();
    for (String kv; !(kv = option(args, "--option", "")).isEmpty(); ) {
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
