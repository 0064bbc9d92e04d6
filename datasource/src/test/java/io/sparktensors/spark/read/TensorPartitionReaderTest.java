package io.sparktensors.spark.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.checkpoint.ChunkPlanner;
import io.sparktensors.checkpoint.FileSlice;
import io.sparktensors.checkpoint.ReadSplit;
import io.sparktensors.checkpoint.ShardFile;
import io.sparktensors.checkpoint.TensorChunk;
import io.sparktensors.format.DType;
import io.sparktensors.format.safetensors.HeaderReader;
import io.sparktensors.format.safetensors.SafetensorsHeader;
import io.sparktensors.format.safetensors.TensorEntry;
import io.sparktensors.io.LocalInputFile;
import io.sparktensors.spark.SerializableConfiguration;
import io.sparktensors.spark.TensorColumns;
import io.sparktensors.testing.SparkTestBase;
import io.sparktensors.testing.TestCheckpoints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Faults that show only on executors: a file that changed or vanished between planning and reading. */
class TensorPartitionReaderTest extends SparkTestBase {
    @TempDir
    Path dir;

    /** Plans two files as the driver would, before anything happens to them. */
    private ReadSplit plan(Path... files) throws IOException {
        List<FileSlice> slices = new ArrayList<>();
        for (Path f : files) {
            SafetensorsHeader h =
                    HeaderReader.read(new LocalInputFile(f), 1 << 20).header();
            List<TensorChunk> chunks = new ArrayList<>();
            for (TensorEntry t : h.tensors()) {
                chunks.addAll(ChunkPlanner.chunks(f.toString(), t, h.dataStart(), 1 << 20));
            }
            slices.add(new FileSlice(new ShardFile(f.toUri().toString(), Files.size(f), h.metadata()), chunks));
        }
        return new ReadSplit(slices);
    }

    private TensorReadContext context(boolean ignoreCorrupt, boolean ignoreMissing) {
        var conf = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .broadcast(new SerializableConfiguration(new Configuration()));
        return new TensorReadContext(TensorColumns.SCHEMA, 4096, 64 << 20, ignoreCorrupt, ignoreMissing, conf);
    }

    private static List<String> names(TensorPartitionReader reader) throws IOException {
        List<String> names = new ArrayList<>();
        while (reader.next()) {
            ColumnarBatch b = reader.get();
            for (int i = 0; i < b.numRows(); i++) {
                names.add(b.column(0).getUTF8String(i).toString());
            }
        }
        return names;
    }

    private Path[] twoFiles() throws IOException {
        Path a = TestCheckpoints.write(
                dir.resolve("a.safetensors"),
                null,
                List.of(TestCheckpoints.random("a", DType.F32, new long[] {64}, 1)));
        Path b = TestCheckpoints.write(
                dir.resolve("b.safetensors"),
                null,
                List.of(TestCheckpoints.random("b", DType.F32, new long[] {64}, 2)));
        return new Path[] {a, b};
    }

    @Test
    void fileTruncatedAfterPlanningFailsNamingItOrIsSkipped() throws Exception {
        Path[] files = twoFiles();
        ReadSplit split = plan(files);
        byte[] bytes = Files.readAllBytes(files[0]);
        Files.write(files[0], java.util.Arrays.copyOf(bytes, bytes.length - 100));
        try (TensorPartitionReader reader = new TensorPartitionReader(split, context(false, false))) {
            IOException e = assertThrows(IOException.class, () -> names(reader));
            assertTrue(e.getMessage().contains("a.safetensors"), e.getMessage());
        }
        try (TensorPartitionReader reader = new TensorPartitionReader(split, context(true, false))) {
            assertEquals(List.of("b"), names(reader));
        }
    }

    @Test
    void fileDeletedAfterPlanningFailsOrIsSkippedUnderIgnoreMissingFiles() throws Exception {
        Path[] files = twoFiles();
        ReadSplit split = plan(files);
        Files.delete(files[1]);
        try (TensorPartitionReader reader = new TensorPartitionReader(split, context(false, false))) {
            IOException e = assertThrows(IOException.class, () -> names(reader));
            assertTrue(e.getMessage().contains("b.safetensors"), e.getMessage());
        }
        try (TensorPartitionReader reader = new TensorPartitionReader(split, context(false, true))) {
            assertEquals(List.of("a"), names(reader));
        }
        try (TensorPartitionReader reader = new TensorPartitionReader(split, context(true, false))) {
            IOException e = assertThrows(
                    IOException.class,
                    () -> names(reader),
                    "a missing file is not a corrupt one: ignoreCorruptFiles does not skip it");
            assertFalse(e.getMessage().isEmpty());
        }
    }
}
