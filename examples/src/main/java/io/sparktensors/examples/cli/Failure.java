package io.sparktensors.examples.cli;

import io.sparktensors.errors.MalformedTensorFileException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.apache.spark.sql.AnalysisException;

/**
 * What the command line says about an exception: one line and the exit status. A usage mistake
 * ({@link IllegalArgumentException} thrown on the driver) is 2; a problem with the data is 1, told by the most
 * specific known cause in the chain, as Spark wraps a task's failure in its own exceptions.
 *
 * @param status the exit status: 2 for a usage mistake, 1 otherwise
 * @param message one line, without the {@code spark-tensors: } prefix
 */
public record Failure(int status, String message) {
    /** Exit status of a usage mistake (unknown command or flag, missing argument, bad value). */
    public static final int USAGE = 2;
    /** Exit status of a problem with the data: missing path, malformed file, I/O failure. */
    public static final int DATA = 1;

    public boolean isUsage() {
        return status == USAGE;
    }

    /** The failure for {@code e}. */
    public static Failure of(Throwable e) {
        if (e instanceof IllegalArgumentException) {
            return new Failure(USAGE, oneLine(e));
        }
        List<Throwable> chain = chain(e);
        for (Predicate<Throwable> known : List.<Predicate<Throwable>>of(
                t -> t instanceof MalformedTensorFileException,
                t -> t instanceof FileNotFoundException,
                t -> t instanceof NoSuchFileException,
                t -> t instanceof AnalysisException,
                t -> t instanceof IOException)) {
            for (Throwable t : chain) {
                if (known.test(t)) {
                    String message = oneLine(t);
                    return new Failure(DATA, t instanceof NoSuchFileException ? "no such file: " + message : message);
                }
            }
        }
        for (Throwable t : chain) {
            if (t instanceof IllegalArgumentException) {
                return new Failure(USAGE, oneLine(t));
            }
        }
        Throwable root = chain.get(chain.size() - 1);
        return new Failure(
                DATA,
                "unexpected error: " + root.getClass().getName() + ": " + oneLine(root) + " (--verbose shows where)");
    }

    private static List<Throwable> chain(Throwable e) {
        List<Throwable> chain = new ArrayList<>();
        for (Throwable t = e; t != null && !chain.contains(t); t = t.getCause()) {
            chain.add(t);
        }
        return chain;
    }

    /**
     * The first line of the message, without Spark's error class and SQL state around it ({@code [PATH_NOT_FOUND]
     * Path does not exist: file:/x. SQLSTATE: 42K03}).
     */
    static String oneLine(Throwable t) {
        String message = t.getMessage();
        if (message == null || message.isBlank()) {
            return t.getClass().getSimpleName();
        }
        String line = message.strip().lines().findFirst().orElse("").strip();
        line = line.replaceFirst("^\\[[A-Z0-9_.]+\\] ", "").replaceFirst(" SQLSTATE: \\w+$", "");
        return line;
    }
}
