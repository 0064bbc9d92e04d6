package io.sparktensors.checkpoint;

import java.io.Serializable;
import java.util.List;

/**
 * The work of one read task: slices of one or more files.
 *
 * @param slices what to read, file by file
 * @param hosts the hosts holding most of these bytes, best first (empty where storage has no locality)
 */
public record ReadSplit(List<FileSlice> slices, List<String> hosts) implements Serializable {

    public ReadSplit {
        slices = List.copyOf(slices);
        hosts = List.copyOf(hosts);
    }

    /** A split with no preferred hosts. */
    public ReadSplit(List<FileSlice> slices) {
        this(slices, List.of());
    }

    /** This split, to be read preferably on {@code preferred}. */
    public ReadSplit withHosts(List<String> preferred) {
        return new ReadSplit(slices, preferred);
    }

    public long dataBytes() {
        long n = 0;
        for (FileSlice s : slices) {
            n += s.dataBytes();
        }
        return n;
    }

    public int chunkCount() {
        int n = 0;
        for (FileSlice s : slices) {
            n += s.chunks().size();
        }
        return n;
    }
}
