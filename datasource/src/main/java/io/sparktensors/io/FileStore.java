package io.sparktensors.io;

import java.io.IOException;
import java.util.List;

/**
 * The file-listing seam planning works over: what a path or glob names, what a folder holds, the files
 * themselves and where their bytes live. {@link HadoopFileStore} serves every Hadoop file system (local,
 * HDFS, S3A), so planning is unit-tested on local files and runs unchanged on a cluster's storage.
 */
public interface FileStore {

    /** The files and folders a path or glob names, sorted by path; empty when nothing matches. */
    List<FileEntry> glob(String pattern) throws IOException;

    /** The entries of a folder, sorted by path. */
    List<FileEntry> list(String folder) throws IOException;

    /** The entry at {@code path}, or null when nothing is there. */
    FileEntry find(String path) throws IOException;

    /** The folder holding {@code path}. */
    String parent(String path);

    /** The path of {@code relative} inside {@code folder}. */
    String child(String folder, String relative);

    /** The path qualified as the store knows it (scheme and authority added), for messages. */
    String qualify(String path);

    /** A listed file, for positioned reads (no further metadata request). */
    InputFile open(FileEntry file) throws IOException;

    /** The files beside {@code file}, confined to its folder. */
    FolderFiles folderOf(FileEntry file) throws IOException;

    /**
     * The hosts holding each block of a file, for read locality: one entry per block, in offset order.
     * Stores without locality (object stores, which report {@code localhost}) return an empty list.
     */
    List<BlockHosts> blockHosts(FileEntry file) throws IOException;

    /** A block of a file and the hosts holding a replica of it. */
    record BlockHosts(long offset, long length, List<String> hosts) {
        public BlockHosts {
            hosts = List.copyOf(hosts);
        }
    }
}
