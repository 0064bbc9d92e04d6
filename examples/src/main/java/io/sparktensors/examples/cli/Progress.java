package io.sparktensors.examples.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.apache.hadoop.fs.Path;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;

/**
 * Progress of a long command on stderr: the share of the current Spark stage's tasks done, shown as bytes of
 * the input's size, with the rate and the time left. On a terminal one line is redrawn in place; otherwise (a
 * log, a pipe) a plain line is printed at every tenth. A stage's tasks are the command's units of work (one
 * output shard of a re-shard, one read split of a scan), each about the same size, so tasks done stand for
 * bytes done. Closing it prints the last line and stops listening.
 */
public final class Progress extends SparkListener implements AutoCloseable {
    /** Redraws at most this often on a terminal. */
    private static final long REDRAW_NANOS = 250_000_000L;

    private final SparkSession spark;
    private final PrintStream err;
    private final boolean terminal;
    private final long totalBytes;
    private final LongSupplier clock;
    private final long start;
    private final Set<Integer> finished = new HashSet<>();
    private int stageTasks;
    private final AtomicInteger stage = new AtomicInteger(-1);
    private int lastTenth = -1;
    private long lastDraw;
    private String lastLine = "";

    Progress(SparkSession spark, long totalBytes, PrintStream err, boolean terminal, LongSupplier clock) {
        this.spark = spark;
        this.totalBytes = totalBytes;
        this.err = err;
        this.terminal = terminal;
        this.clock = clock;
        this.start = clock.getAsLong();
    }

    /**
     * Starts showing progress for a command that reads {@code inputs} (their total size is the scale shown).
     *
     * @param err where to draw: a terminal when the process has a console
     */
    public static Progress start(SparkSession spark, List<String> inputs, PrintStream err) {
        Progress p = new Progress(spark, sizeOf(spark, inputs), err, System.console() != null, System::nanoTime);
        spark.sparkContext().addSparkListener(p);
        return p;
    }

    private static long sizeOf(SparkSession spark, List<String> inputs) {
        long total = 0;
        for (String input : inputs) {
            try {
                Path path = new Path(input);
                for (var status : path.getFileSystem(spark.sparkContext().hadoopConfiguration())
                        .globStatus(path)) {
                    total += status.isDirectory()
                            ? status.getPath()
                                    .getFileSystem(spark.sparkContext().hadoopConfiguration())
                                    .getContentSummary(status.getPath())
                                    .getLength()
                            : status.getLen();
                }
            } catch (IOException | RuntimeException e) {
                // no size to show for this input; the command itself reports a path that cannot be read
            }
        }
        return total;
    }

    @Override
    public synchronized void onStageSubmitted(SparkListenerStageSubmitted submitted) {
        stage.set(submitted.stageInfo().stageId());
        stageTasks = submitted.stageInfo().numTasks();
        finished.clear();
        lastTenth = -1;
    }

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd end) {
        if (end.stageId() != stage.get() || !end.taskInfo().successful()) {
            return;
        }
        finished.add(end.taskInfo().index()); // a retried or speculative copy of a task counts once
        draw(false);
    }

    /** The line for {@code done} of {@code total} tasks after {@code elapsedNanos}. */
    static String line(long totalBytes, int done, int total, long elapsedNanos) {
        double share = total == 0 ? 1 : (double) done / total;
        long bytes = (long) (share * totalBytes);
        double seconds = elapsedNanos / 1e9;
        double rate = seconds > 0 ? bytes / seconds : 0;
        String left = share > 0 && share < 1
                ? String.format(Locale.ROOT, ", %s left", duration(seconds / share - seconds))
                : "";
        int width = 20;
        int filled = (int) Math.round(share * width);
        return String.format(
                Locale.ROOT,
                "[%s%s] %s of %s, %s/s%s",
                "=".repeat(filled),
                " ".repeat(width - filled),
                bytes(bytes),
                bytes(totalBytes),
                bytes((long) rate),
                left);
    }

    private void draw(boolean last) {
        long now = clock.getAsLong();
        int done = finished.size();
        String line = line(totalBytes, done, stageTasks, now - start);
        if (terminal) {
            if (last || now - lastDraw >= REDRAW_NANOS) {
                err.print("\r" + line + " ".repeat(Math.max(0, lastLine.length() - line.length())));
                err.flush();
                lastDraw = now;
                lastLine = line;
            }
        } else {
            int tenth = stageTasks == 0 ? 10 : done * 10 / stageTasks;
            if (tenth > lastTenth || last) {
                lastTenth = tenth;
                if (!line.equals(lastLine)) {
                    err.println(line);
                    lastLine = line;
                }
            }
        }
    }

    static String bytes(long n) {
        String[] units = {"B", "KB", "MB", "GB", "TB"};
        double v = n;
        int u = 0;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return u == 0 ? n + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600
                ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60)
                : s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + " s";
    }

    @Override
    public synchronized void close() {
        spark.sparkContext().removeSparkListener(this);
        if (stage.get() >= 0 && (terminal || lastTenth < 10)) {
            draw(true);
            if (terminal) {
                err.println();
            }
        }
    }
}
