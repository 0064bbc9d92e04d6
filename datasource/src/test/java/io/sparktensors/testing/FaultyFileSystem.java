package io.sparktensors.testing;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.URI;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;
import org.apache.spark.TaskContext;

/**
 * The local disk under the scheme {@code faulty:}, with faults a test switches on by Hadoop settings (as
 * write options, session settings or {@code spark.hadoop.*}; lower-case keys, as Spark lower-cases write
 * options), so fault injection needs no hook in the
 * library: files created by Spark tasks fail after some bytes, or are held back, on the first attempt or on
 * every attempt. Files the driver creates (indexes, config copies) never fail.
 *
 * <ul>
 *   <li>{@value #FAIL_AFTER_BYTES}: a task's file fails once this many bytes are written to it;
 *   <li>{@value #FAIL_EVERY_ATTEMPT}: {@code true} to fail every attempt, not only the first;
 *   <li>{@value #SLOW_FILE}, {@value #SLOW_MILLIS}: the first attempt creating a file whose name contains
 *       this text waits this long first (so a speculative copy overtakes it).
 * </ul>
 */
public final class FaultyFileSystem extends RawLocalFileSystem {
    public static final String SCHEME = "faulty";
    public static final String FAIL_AFTER_BYTES = "fs.faulty.fail-after-bytes";
    public static final String FAIL_EVERY_ATTEMPT = "fs.faulty.fail-every-attempt";
    public static final String SLOW_FILE = "fs.faulty.slow-file";
    public static final String SLOW_MILLIS = "fs.faulty.slow-millis";
    private static final URI ROOT = URI.create(SCHEME + ":///");
    private static final java.util.concurrent.atomic.AtomicLong FAULTS = new java.util.concurrent.atomic.AtomicLong();

    /** Faults injected in this JVM so far (tests check theirs fired). */
    public static long faultsInjected() {
        return FAULTS.get();
    }

    /** The settings that make {@code faulty:} paths resolve to this file system, uncached (so settings apply). */
    public static Map<String, String> settings() {
        return Map.of(
                "fs." + SCHEME + ".impl",
                FaultyFileSystem.class.getName(),
                "fs." + SCHEME + ".impl.disable.cache",
                "true");
    }

    /** {@code faulty:} and the local path. */
    public static String path(java.nio.file.Path local) {
        return SCHEME + ":" + local.toAbsolutePath();
    }

    @Override
    public URI getUri() {
        return ROOT;
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }

    @Override
    public void initialize(URI uri, Configuration conf) throws IOException {
        super.initialize(uri, conf);
        setConf(conf);
    }

    @Override
    public FSDataOutputStream create(
            Path f,
            FsPermission permission,
            boolean overwrite,
            int bufferSize,
            short replication,
            long blockSize,
            Progressable progress)
            throws IOException {
        return wrap(f, super.create(f, permission, overwrite, bufferSize, replication, blockSize, progress));
    }

    @Override
    public FSDataOutputStream create(
            Path f, boolean overwrite, int bufferSize, short replication, long blockSize, Progressable progress)
            throws IOException {
        return wrap(f, super.create(f, overwrite, bufferSize, replication, blockSize, progress));
    }

    private FSDataOutputStream wrap(Path f, FSDataOutputStream out) throws IOException {
        TaskContext task = TaskContext.get();
        if (task == null) {
            return out; // the driver's own files
        }
        Configuration conf = getConf();
        boolean firstAttempt = task.attemptNumber() == 0;
        String slowFile = conf.get(SLOW_FILE);
        if (firstAttempt && slowFile != null && f.getName().contains(slowFile)) {
            try {
                Thread.sleep(conf.getLong(SLOW_MILLIS, 0));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while held back by the test file system");
            }
        }
        long failAfter = conf.getLong(FAIL_AFTER_BYTES, -1);
        if (failAfter < 0 || !(firstAttempt || conf.getBoolean(FAIL_EVERY_ATTEMPT, false))) {
            return out;
        }
        OutputStream failing = new FilterOutputStream(out) {
            private long written;

            @Override
            public void write(int b) throws IOException {
                count(1);
                out.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                count(len);
                out.write(b, off, len);
            }

            private void count(long n) throws IOException {
                written += n;
                if (written > failAfter) {
                    FAULTS.incrementAndGet();
                    throw new IOException(
                            "Injected fault after " + failAfter + " bytes of " + f + " (test file system)");
                }
            }
        };
        return new FSDataOutputStream(failing, null);
    }
}
