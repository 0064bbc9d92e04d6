package io.sparktensors.io;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.BlockLocation;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** {@link FileStore} over Hadoop file systems; each path goes to the file system its scheme names. */
public final class HadoopFileStore implements FileStore {
    private final Configuration conf;
    /** What listing returned, so opening a listed file needs no metadata request (a HEAD on object stores). */
    private final Map<String, FileStatus> listed = new ConcurrentHashMap<>();

    public HadoopFileStore(Configuration conf) {
        this.conf = conf;
    }

    private FileSystem fs(Path path) throws IOException {
        return path.getFileSystem(conf);
    }

    private FileEntry entry(FileStatus s) {
        listed.put(s.getPath().toString(), s);
        return new FileEntry(
                s.getPath().toString(), s.getPath().getName(), s.isDirectory() ? 0 : s.getLen(), s.isDirectory());
    }

    private List<FileEntry> entries(FileStatus[] statuses) {
        if (statuses == null) {
            return List.of();
        }
        FileStatus[] sorted = statuses.clone();
        Arrays.sort(sorted);
        List<FileEntry> out = new ArrayList<>(sorted.length);
        for (FileStatus s : sorted) {
            out.add(entry(s));
        }
        return out;
    }

    @Override
    public List<FileEntry> glob(String pattern) throws IOException {
        Path path = new Path(pattern);
        return entries(fs(path).globStatus(path));
    }

    @Override
    public List<FileEntry> list(String folder) throws IOException {
        Path path = new Path(folder);
        return entries(fs(path).listStatus(path));
    }

    @Override
    public FileEntry find(String path) throws IOException {
        Path p = new Path(path);
        FileSystem fs = fs(p);
        try {
            return entry(fs.getFileStatus(p));
        } catch (java.io.FileNotFoundException e) {
            return null;
        }
    }

    @Override
    public String parent(String path) {
        return new Path(path).getParent().toString();
    }

    @Override
    public String child(String folder, String relative) {
        return new Path(new Path(folder), relative).toString();
    }

    @Override
    public String qualify(String path) {
        Path p = new Path(path);
        try {
            return fs(p).makeQualified(p).toString();
        } catch (IOException | IllegalArgumentException e) {
            return path;
        }
    }

    @Override
    public InputFile open(FileEntry file) throws IOException {
        Path p = new Path(file.path());
        FileStatus status = listed.get(file.path());
        return status != null ? HadoopInputFile.of(fs(p), status) : HadoopInputFile.of(fs(p), p, file.length());
    }

    @Override
    public FolderFiles folderOf(FileEntry file) throws IOException {
        Path p = new Path(file.path());
        return new HadoopFolderFiles(fs(p), p.getParent());
    }

    @Override
    public List<BlockHosts> blockHosts(FileEntry file) throws IOException {
        Path p = new Path(file.path());
        BlockLocation[] blocks = fs(p).getFileBlockLocations(p, 0, file.length());
        List<BlockHosts> out = new ArrayList<>();
        if (blocks == null) {
            return out;
        }
        for (BlockLocation b : blocks) {
            List<String> hosts = new ArrayList<>();
            for (String h : b.getHosts()) {
                if (!"localhost".equals(h)) { // what object stores and the local file system report: no locality
                    hosts.add(h);
                }
            }
            if (!hosts.isEmpty()) {
                out.add(new BlockHosts(b.getOffset(), b.getLength(), hosts));
            }
        }
        return out;
    }
}
