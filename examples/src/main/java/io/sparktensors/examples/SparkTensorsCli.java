package io.sparktensors.examples;

import io.sparktensors.examples.cli.Args;
import io.sparktensors.examples.cli.Command;
import io.sparktensors.examples.cli.Commands;
import io.sparktensors.examples.cli.Failure;
import io.sparktensors.examples.cli.Usage;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The {@code spark-tensors} command: one {@link Command} per verb (in {@code io.sparktensors.examples.cli}).
 * Runs on an embedded local Spark unless started by spark-submit (which sets {@code spark.master}).
 * {@code spark-tensors --help} lists the commands, {@code spark-tensors help COMMAND} describes one, and
 * {@code spark-tensors help --markdown} prints the README's command table.
 *
 * <p>A mistake prints one line, {@code spark-tensors: <message>}, on stderr and exits 2 for a usage mistake
 * (with a hint where to find the usage) or 1 for the data; {@code --verbose}, anywhere on the command line, adds
 * the stack trace and Spark's own log lines.
 */
public final class SparkTensorsCli {
    /** The system property the launcher's log4j2.properties reads for the level of Spark's log lines. */
    static final String LOG_LEVEL = "spark.tensors.log.level";
    /** The same for the library's own log lines (warnings always; what each step took with --verbose). */
    static final String LIBRARY_LOG_LEVEL = "spark.tensors.library.log.level";

    private SparkTensorsCli() {}

    public static void main(String[] args) {
        boolean verbose = List.of(args).contains("--verbose");
        if (System.getProperty(LOG_LEVEL) == null) {
            System.setProperty(LOG_LEVEL, verbose ? "warn" : "off"); // before Spark starts log4j
        }
        if (System.getProperty(LIBRARY_LOG_LEVEL) == null) {
            System.setProperty(LIBRARY_LOG_LEVEL, verbose ? "info" : "warn");
        }
        System.exit(run(args, System.out, System.err));
    }

    /** The command table in Markdown (synopsis, what it does, flags), for the README and docs. */
    public static String markdownTable() {
        return Usage.markdown();
    }

    /** The usage text of {@code spark-tensors --help}. */
    public static String usage() {
        return Usage.text();
    }

    /** Runs one command; returns the process exit status. */
    public static int run(String[] argv, PrintStream out, PrintStream err) {
        List<String> args = new ArrayList<>(List.of(argv));
        boolean verbose = args.removeIf("--verbose"::equals);
        if (args.isEmpty()) {
            err.print(Usage.text());
            return Failure.USAGE;
        }
        String verb = args.get(0);
        List<String> rest = args.subList(1, args.size());
        Optional<Command> command = Commands.find(verb);
        try {
            if (verb.equals("--help") || verb.equals("-h")) {
                out.print(Usage.text());
                return 0;
            }
            if (verb.equals("help")) {
                return help(rest, out);
            }
            if (command.isEmpty()) {
                throw new IllegalArgumentException("unknown command '" + verb + "'");
            }
            if (asksForHelp(rest)) {
                out.print(Usage.text(command.get()));
                return 0;
            }
            return command.get().run(Args.parse(command.get(), rest), out);
        } catch (Exception e) {
            Failure failure = Failure.of(e);
            String hint = failure.isUsage()
                    ? " (run 'spark-tensors " + command.map(c -> c.name() + " ").orElse("") + "--help' for usage)"
                    : "";
            err.println("spark-tensors: " + failure.message() + hint);
            if (verbose) {
                e.printStackTrace(err);
            }
            return failure.status();
        }
    }

    /** {@code help}, {@code help COMMAND} or {@code help --markdown}. */
    private static int help(List<String> rest, PrintStream out) {
        if (rest.isEmpty()) {
            out.print(Usage.text());
        } else if (rest.size() > 1) {
            throw new IllegalArgumentException("help takes one command, got " + String.join(" ", rest));
        } else if (rest.get(0).equals("--markdown")) {
            out.print(Usage.markdown());
        } else {
            out.print(Usage.text(Commands.find(rest.get(0))
                    .orElseThrow(() -> new IllegalArgumentException("unknown command '" + rest.get(0) + "'"))));
        }
        return 0;
    }

    /** Whether {@code --help} or {@code -h} comes before any {@code --} (after it, they would be paths). */
    private static boolean asksForHelp(List<String> args) {
        for (String arg : args) {
            if (arg.equals("--")) {
                return false;
            }
            if (arg.equals("--help") || arg.equals("-h")) {
                return true;
            }
        }
        return false;
    }
}
