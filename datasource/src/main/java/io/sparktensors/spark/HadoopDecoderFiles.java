package io.sparktensors.spark;

import io.sparktensors.format.TensorDecoder;
import io.sparktensors.io.HadoopInputFile;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import java.io.Closeable;
import java.io.IOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * The files a task's decoders open besides the one a tensor's data names (a DCP tensor's other rank files),
 * through Hadoop. Kept open for the task's later chunks, at most {@link #MAX_OPEN} at once (the least recently
 * used is closed first); all closed with this. Not thread-safe: one per reading thread.
 */
public final class HadoopDecoderFiles implements TensorDecoder.Files, Closeable {
    /** Most files held open at once. */
    static final int MAX_OPEN = 16;

    private final Configuration conf;
    private final Map<String, SeekableInput> open = new LinkedHashMap<>(16, 0.75f, true);
    private long opened;

    public HadoopDecoderFiles(Configuration conf) {
        this.conf = conf;
    }

    @Override
    public SeekableInput open(String location, long fileLength) throws IOException {
        SeekableInput in = open.get(location);
        if (in == null) {
            if (open.size() >= MAX_OPEN) {
                Iterator<SeekableInput> eldest = open.values().iterator();
                SeekableInput old = eldest.next();
                eldest.remove();
                old.close();
            }
            Path path = new Path(location);
            in = HadoopInputFile.forData(path.getFileSystem(conf), path, fileLength)
                    .open(ReadPolicy.RANDOM);
            open.put(location, in);
            opened++;
        }
        return in;
    }

    /** How many files were opened. */
    public long opened() {
        return opened;
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (SeekableInput in : open.values()) {
            try {
                in.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        open.clear();
        if (first != null) {
            throw first;
        }
    }
}
