package io.sparktensors.examples.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/**
 * One verb of {@code spark-tensors}: its name, positional arguments, flags and one-line summary (from which the
 * usage text and the README's command table are made), and what it does. {@link Args#parse} checks the command
 * line against the declaration before {@link #run} starts Spark, so a usage mistake costs no Spark session.
 */
public abstract class Command {
    private final String name;
    private final List<String> positionals;
    private final List<Flag> flags;
    private final String summary;

    /**
     * @param name the verb, e.g. {@code inspect}
     * @param positionals the names of its positional arguments, e.g. {@code SRC, DST}
     * @param summary what it does, in a line or two
     * @param flags its flags, in the order its help lists them
     */
    protected Command(String name, List<String> positionals, String summary, List<Flag> flags) {
        this.name = name;
        this.positionals = List.copyOf(positionals);
        this.summary = summary;
        this.flags = List.copyOf(flags);
    }

    /** Runs the command on parsed arguments; returns the exit status (0 unless the command says otherwise). */
    public abstract int run(Args args, PrintStream out) throws Exception;

    public String name() {
        return name;
    }

    public List<String> positionals() {
        return positionals;
    }

    public List<Flag> flags() {
        return flags;
    }

    public String summary() {
        return summary;
    }

    /** {@code inspect PATH [--json] [--hash] ...}: the name, positional arguments and every flag. */
    public String synopsis() {
        List<String> parts = new ArrayList<>();
        parts.add(name);
        parts.addAll(positionals);
        flags.forEach(f -> parts.add(f.synopsis()));
        return String.join(" ", parts);
    }

    /** The local session the command line runs on, or the one spark-submit set up (it sets spark.master). */
    protected static SparkSession session(String command) {
        SparkSession.Builder builder = SparkSession.builder().appName("spark-tensors " + command);
        if (System.getProperty("spark.master") == null) {
            builder.master("local[*]").config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "8");
        }
        return builder.getOrCreate();
    }

    /** The flag every command that reads a checkpoint takes: a read option passed to the data source. */
    static Flag readOption() {
        return Flag.repeated("--option", "KEY=VALUE", "a read option of the source, e.g. maxChunkBytes=16m");
    }
}
