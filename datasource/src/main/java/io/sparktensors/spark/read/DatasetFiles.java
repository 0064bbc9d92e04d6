package io.sparktensors.spark.read;

import io.sparktensors.errors.DatasetErrors;
import io.sparktensors.format.safetensors.HeaderReader;
import io.sparktensors.format.safetensors.SafetensorsHeader;
import io.sparktensors.io.HadoopInputFile;
import io.sparktensors.spark.DatasetLayout;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The files of a training-data folder and their headers, on the driver: every {@code .safetensors} file
 * under the root (folders and files starting with {@code _} or {@code .} skipped, as Spark's file sources
 * do), in path order, and the schema their {@code __metadata__} records. Driver-only.
 */
public final class DatasetFiles {
    /** A listed file with its header. */
    public record Listed(FileStatus status, String relative, SafetensorsHeader header) {}

    private DatasetFiles() {}

    /** The files under {@code root}, or null when it does not exist. */
    public static List<Listed> list(String root, Configuration conf, long maxHeaderBytes) {
        try {
            Path path = new Path(root);
            FileSystem fs = path.getFileSystem(conf);
            if (!fs.exists(path)) {
                return null;
            }
            Path qualified = fs.makeQualified(path);
            List<FileStatus> files = new ArrayList<>();
            collect(fs, fs.getFileStatus(qualified), files);
            files.sort(Comparator.comparing(s -> s.getPath().toString()));
            String prefix = qualified.toString();
            List<Listed> listed = new ArrayList<>(files.size());
            for (FileStatus s : files) {
                String full = s.getPath().toString();
                String relative = full.startsWith(prefix)
                        ? full.substring(prefix.length()).replaceFirst("^/", "")
                        : full;
                listed.add(new Listed(
                        s,
                        relative,
                        HeaderReader.read(HadoopInputFile.of(fs, s), maxHeaderBytes)
                                .header()));
            }
            return listed;
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    private static void collect(FileSystem fs, FileStatus status, List<FileStatus> out) throws IOException {
        if (status.isFile()) {
            if (status.getPath().getName().endsWith(".safetensors")) {
                out.add(status);
            }
            return;
        }
        for (FileStatus child : fs.listStatus(status.getPath())) {
            String name = child.getPath().getName();
            if (!name.startsWith("_") && !name.startsWith(".")) {
                collect(fs, child, out);
            }
        }
    }

    /** The schema recorded in a file: data columns then partition columns. */
    public static StructType schema(Listed file, String layout) {
        String json = file.header().metadata().get(DatasetLayout.SCHEMA);
        if (json == null || !layout.equals(file.header().metadata().get(DatasetLayout.LAYOUT))) {
            throw DatasetErrors.notADataset(file.status().getPath().toString(), layout);
        }
        StructType schema = (StructType) DataType.fromJson(json);
        String partitions = file.header().metadata().get(DatasetLayout.PARTITION_SCHEMA);
        if (partitions != null) {
            for (StructField f : ((StructType) DataType.fromJson(partitions)).fields()) {
                schema = schema.add(f);
            }
        }
        return schema;
    }

    /** The partition schema recorded in a file (empty when the data was not written with partitionBy). */
    public static StructType partitionSchema(Listed file) {
        String partitions = file.header().metadata().get(DatasetLayout.PARTITION_SCHEMA);
        return partitions == null ? new StructType() : (StructType) DataType.fromJson(partitions);
    }
}
