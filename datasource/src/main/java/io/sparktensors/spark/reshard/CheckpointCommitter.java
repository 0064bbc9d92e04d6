package io.sparktensors.spark.reshard;

import io.sparktensors.checkpoint.ShardPlan;
import io.sparktensors.io.OutputFiles;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stages a job's files under {@code TARGET/_temporary/JOB/} and publishes them into the target folder at
 * commit: shards first, the index last, so a reader never sees an index whose shards are not all there.
 * When overwriting, the folder's previous contents are moved aside at commit and deleted only once the new
 * checkpoint is in place (restored if publishing fails). An aborted job deletes its staging, and the target
 * folder too when the job created it. Driver-side, except {@link #attemptDir}, which tasks use.
 */
public final class CheckpointCommitter implements java.io.Serializable {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointCommitter.class);
    public static final String STAGING = "_temporary";

    private final String target;
    private final String jobId;
    private final boolean createdTarget;
    /** Set when a failed publish could not put the previous contents back: they stay in staging. */
    private transient volatile boolean keepStaging;

    private CheckpointCommitter(String target, String jobId, boolean createdTarget) {
        this.target = target;
        this.jobId = jobId;
        this.createdTarget = createdTarget;
    }

    /** Prepares staging for a new job writing into {@code target} (created when absent). */
    public static CheckpointCommitter start(Configuration conf, String target) throws IOException {
        Path path = new Path(target);
        FileSystem fs = OutputFiles.fileSystem(path, conf);
        Path qualified = fs.makeQualified(path);
        boolean created = !fs.exists(qualified);
        String jobId = UUID.randomUUID().toString();
        fs.mkdirs(new Path(qualified, STAGING + "/" + jobId));
        return new CheckpointCommitter(qualified.toString(), jobId, created);
    }

    public String target() {
        return target;
    }

    public String jobId() {
        return jobId;
    }

    private Path jobDir() {
        return new Path(new Path(target, STAGING), jobId);
    }

    /** Where one task attempt stages its files; unique per attempt, so retries and speculation never clash. */
    public Path attemptDir(String attempt) {
        return new Path(jobDir(), "attempt-" + attempt);
    }

    /** Where the driver stages small files (the index, copied config files) before publishing. */
    public Path driverDir() {
        return new Path(jobDir(), "driver");
    }

    /**
     * Publishes staged files into the target: {@code shards} (file name to staged path) first, then
     * {@code extras} (other small files), then {@code index} (file name to staged path) last.
     *
     * @param overwrite move the target's previous contents aside first and delete them after
     */
    public void commit(
            Configuration conf,
            Map<String, Path> shards,
            Map<String, Path> extras,
            Map<String, Path> index,
            boolean overwrite)
            throws IOException {
        Path targetPath = new Path(target);
        FileSystem fs = OutputFiles.fileSystem(targetPath, conf);
        Path previous = new Path(jobDir(), "previous");
        List<Path> movedAside = new ArrayList<>();
        List<Path> published = new ArrayList<>();
        try {
            if (overwrite) {
                fs.mkdirs(previous);
                for (FileStatus s : fs.listStatus(targetPath)) {
                    if (!s.getPath().getName().equals(STAGING)) {
                        rename(fs, s.getPath(), new Path(previous, s.getPath().getName()));
                        movedAside.add(s.getPath());
                    }
                }
            }
            for (Map<String, Path> group : List.of(shards, extras, index)) {
                for (Map.Entry<String, Path> e : group.entrySet()) {
                    Path dst = new Path(targetPath, e.getKey());
                    rename(fs, e.getValue(), dst);
                    published.add(dst);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.error("Publishing into {} failed; restoring its previous contents", target, e);
            restore(fs, published, movedAside, previous, e);
            throw e;
        }
        try {
            cleanup(fs);
        } catch (IOException e) {
            // Published: the new checkpoint is in place. Leftover staging is harmless (readers skip '_' folders).
            LOG.warn("Published {}, but could not delete its staging {}", target, jobDir(), e);
        }
    }

    /** Undoes a partial publish; if anything cannot be put back, keeps the staging so nothing is lost. */
    private void restore(FileSystem fs, List<Path> published, List<Path> movedAside, Path previous, Exception cause) {
        boolean complete = true;
        for (Path p : published) {
            try {
                complete &= fs.delete(p, false);
            } catch (IOException | RuntimeException e) {
                cause.addSuppressed(e);
                complete = false;
            }
        }
        for (Path p : movedAside) {
            try {
                complete &= fs.rename(new Path(previous, p.getName()), p);
            } catch (IOException | RuntimeException e) {
                cause.addSuppressed(e);
                complete = false;
            }
        }
        if (!complete) {
            keepStaging = true;
            cause.addSuppressed(new IOException("The previous contents of " + target + " could not all be restored; "
                    + "what was not is kept in " + previous + ". Move it back by hand."));
        }
    }

    /** Deletes the job's staging (and the target, when this job created it and nothing else is there). */
    public void abort(Configuration conf) {
        if (keepStaging) {
            LOG.error(
                    "Not deleting the staging of job {} in {}: it holds previous contents that could not be restored",
                    jobId,
                    target);
            return;
        }
        try {
            Path targetPath = new Path(target);
            FileSystem fs = OutputFiles.fileSystem(targetPath, conf);
            cleanup(fs);
            if (createdTarget && fs.exists(targetPath) && fs.listStatus(targetPath).length == 0) {
                fs.delete(targetPath, false);
            }
        } catch (IOException e) {
            LOG.warn("Could not clean up the staging of job {} in {}", jobId, target, e);
        }
    }

    private void cleanup(FileSystem fs) throws IOException {
        fs.delete(jobDir(), true);
        Path staging = new Path(target, STAGING);
        try {
            FileStatus[] left = fs.listStatus(staging);
            if (left.length == 0) {
                fs.delete(staging, false);
            } else {
                LOG.warn(
                        "Kept {}: it still holds {} (another job's staging?)",
                        staging,
                        java.util.Arrays.stream(left)
                                .map(f -> f.getPath().getName())
                                .toList());
            }
        } catch (FileNotFoundException e) {
            // already gone
        }
    }

    private static void rename(FileSystem fs, Path from, Path to) throws IOException {
        if (!fs.rename(from, to)) {
            throw new IOException("Cannot move " + from + " to " + to + " (does the destination exist?)");
        }
    }

    /** Stages the index of a sharded plan (none for one shard); returns it by file name. */
    public Map<String, Path> stageIndex(ShardPlan plan, Configuration conf) throws IOException {
        Map<String, Path> index = new TreeMap<>();
        if (plan.sharded()) {
            Path indexPath = new Path(driverDir(), plan.indexFileName());
            try (OutputStream out = OutputFiles.create(indexPath, conf)) {
                out.write(plan.indexJson());
            }
            index.put(plan.indexFileName(), indexPath);
        }
        return index;
    }
}
