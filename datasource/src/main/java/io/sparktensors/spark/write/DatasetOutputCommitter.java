package io.sparktensors.spark.write;

import io.sparktensors.errors.DatasetErrors;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.safetensors.HeaderReader;
import io.sparktensors.format.safetensors.SafetensorsHeader;
import io.sparktensors.format.safetensors.TensorEntry;
import io.sparktensors.io.HadoopInputFile;
import io.sparktensors.spark.DatasetColumn;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiConsumer;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.mapreduce.JobContext;
import org.apache.hadoop.mapreduce.TaskAttemptContext;
import org.apache.hadoop.mapreduce.lib.output.FileOutputCommitter;

/**
 * The Hadoop committer of a {@code layout=dataset} write: Spark's file commit protocol
 * ({@code SQLHadoopMapReduceCommitProtocol}) runs it because {@link DatasetFileFormat} names it in the job's
 * {@code spark.sql.sources.outputCommitterClass}, as Parquet names its own. It is Hadoop's
 * {@link FileOutputCommitter} with algorithm 1 (a task's files stay under {@code _temporary} until the job
 * commits) plus two steps at the start of the job commit, before anything is published:
 *
 * <ol>
 *   <li>the shapes: every task checked its own rows, but two tasks can still disagree (one wrote arrays of 3,
 *       another of 4), and an append can disagree with the files already there. The committed files' headers
 *       (and an existing file's, for an append) are read and each column not padded must have one per-row
 *       shape in all of them; else the commit fails, the job aborts and no file is published;
 *   <li>an overwrite: the old contents of the folder (static) or of the partition folders the job wrote
 *       (dynamic) are deleted only now, so a job that fails leaves the old data as it was.
 * </ol>
 *
 * The rest of the commit is the file committer's (renames into place, then {@code _SUCCESS}): it is not
 * atomic to a reader listing the folder at that moment, as for Parquet. Public with this constructor because
 * Spark instantiates it by name.
 */
public final class DatasetOutputCommitter extends FileOutputCommitter {
    /** Job setting: {@code static} or {@code dynamic} when the write replaces old data. */
    static final String OVERWRITE = "spark.tensors.datasetOverwrite";

    public DatasetOutputCommitter(Path outputPath, TaskAttemptContext context) throws IOException {
        super(outputPath, context);
    }

    @Override
    public void commitJob(JobContext context) throws IOException {
        Path output = getOutputPath();
        FileSystem fs = output.getFileSystem(context.getConfiguration());
        Path attempt = getJobAttemptPath(context);
        List<Committed> files = new ArrayList<>();
        if (fs.exists(attempt)) {
            for (FileStatus task : fs.listStatus(attempt)) {
                if (task.isDirectory() && !task.getPath().getName().equals(PENDING_DIR_NAME)) {
                    collect(fs, task, "", files);
                }
            }
        }
        files.sort(Comparator.comparing(c -> c.relative));
        DatasetWriteConf conf =
                DatasetWriteJob.PENDING.get(context.getConfiguration().get(DatasetWriteJob.JOB_ID, ""));
        String overwrite = context.getConfiguration().get(OVERWRITE);
        checkShapes(fs, overwrite == null ? output : null, files, conf);
        if (overwrite != null) {
            deleteOld(fs, output, files, overwrite.equals("dynamic"));
        }
        super.commitJob(context);
    }

    /** A file a committed task wrote, with its path below the task's folder ({@code k=v/.../part-...}). */
    private record Committed(FileStatus status, String relative) {
        String folder() {
            int slash = relative.lastIndexOf('/');
            return slash < 0 ? "" : relative.substring(0, slash);
        }
    }

    private static void collect(FileSystem fs, FileStatus dir, String prefix, List<Committed> out) throws IOException {
        for (FileStatus child : fs.listStatus(dir.getPath())) {
            String name = child.getPath().getName();
            if (child.isDirectory()) {
                collect(fs, child, prefix + name + "/", out);
            } else if (name.endsWith(".safetensors")) {
                out.add(new Committed(child, prefix + name));
            }
        }
    }

    /**
     * Fails when two new files disagree on a column's per-row shape, or (appending to {@code existing}, null
     * otherwise) a new file disagrees with the files already there; columns padded by ragged=pad may differ.
     */
    private static void checkShapes(FileSystem fs, Path existing, List<Committed> files, DatasetWriteConf conf)
            throws IOException {
        if (conf == null) {
            return; // not started by DatasetWriteJob on this driver: nothing to check against
        }
        Map<String, long[]> first = new HashMap<>();
        Map<String, String> firstFile = new HashMap<>();
        long checked = Arrays.stream(conf.columns())
                .filter(c -> !(conf.pad() && c.paddable()))
                .count();
        if (existing != null && checked > 0 && fs.exists(existing)) {
            // The files there agreed with each other when they were committed: the first to give a column its
            // shape stands for all of them, so the listing stops once every column has one.
            RemoteIterator<LocatedFileStatus> old = fs.listFiles(existing, true);
            while (old.hasNext() && first.size() < checked) {
                LocatedFileStatus f = old.next();
                String relative = relative(existing, f.getPath());
                if (f.getPath().getName().endsWith(".safetensors") && !hidden(relative)) {
                    shapes(fs, f, conf, (column, shape) -> {
                        first.putIfAbsent(column, shape);
                        firstFile.putIfAbsent(column, relative);
                    });
                }
            }
        }
        Set<String> fromExisting = new HashSet<>(first.keySet());
        for (Committed f : files) {
            shapes(fs, f.status(), conf, (column, rowShape) -> {
                long[] seen = first.putIfAbsent(column, rowShape);
                firstFile.putIfAbsent(column, f.relative());
                if (seen != null && !Arrays.equals(seen, rowShape)) {
                    throw fromExisting.contains(column)
                            ? DatasetErrors.raggedAgainstExisting(
                                    column, firstFile.get(column), seen, f.relative(), rowShape)
                            : DatasetErrors.raggedAcrossTasks(
                                    column, firstFile.get(column), seen, f.relative(), rowShape);
                }
            });
        }
    }

    /** Gives each checked column's per-row shape in {@code file} (none for an empty file or a padded column). */
    private static void shapes(FileSystem fs, FileStatus file, DatasetWriteConf conf, BiConsumer<String, long[]> shape)
            throws IOException {
        SafetensorsHeader header = HeaderReader.read(HadoopInputFile.of(fs, file), ReadLimits.DEFAULT_MAX_HEADER_BYTES)
                .header();
        Map<String, TensorEntry> byName = new HashMap<>();
        header.tensors().forEach(t -> byName.put(t.name(), t));
        for (DatasetColumn c : conf.columns()) {
            TensorEntry t = byName.get(c.name());
            if (t == null || t.shape().length == 0 || t.shape()[0] == 0 || (conf.pad() && c.paddable())) {
                continue; // an empty file's arrays have no length to agree on
            }
            shape.accept(c.name(), Arrays.copyOfRange(t.shape(), 1, t.shape().length));
        }
    }

    private static String relative(Path root, Path file) {
        String r = root.toUri().getPath();
        String f = file.toUri().getPath();
        return f.startsWith(r + "/") ? f.substring(r.length() + 1) : f;
    }

    /**
     * Whether a path below the output is Spark's or Hadoop's ({@code _temporary}, {@code _SUCCESS}, dot files),
     * as Spark's own file listing decides: a {@code _} name is hidden unless it is a partition folder.
     */
    private static boolean hidden(String relative) {
        for (String part : relative.split("/")) {
            if ((part.startsWith("_") && !part.contains("=")) || part.startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    /** Deletes what the new files replace: all of the folder but the pending output, or the folders written. */
    private static void deleteOld(FileSystem fs, Path output, List<Committed> files, boolean dynamic)
            throws IOException {
        if (!dynamic) {
            for (FileStatus old : fs.listStatus(output)) {
                if (!old.getPath().getName().equals(PENDING_DIR_NAME)) {
                    delete(fs, old.getPath());
                }
            }
            return;
        }
        TreeSet<String> folders = new TreeSet<>();
        files.forEach(f -> folders.add(f.folder()));
        for (String folder : folders) {
            Path old = folder.isEmpty() ? null : new Path(output, folder);
            if (old != null && fs.exists(old)) {
                delete(fs, old);
            }
        }
    }

    private static void delete(FileSystem fs, Path path) throws IOException {
        if (!fs.delete(path, true) && fs.exists(path)) {
            throw new IOException("Cannot overwrite the dataset: " + path + " could not be deleted");
        }
    }
}
