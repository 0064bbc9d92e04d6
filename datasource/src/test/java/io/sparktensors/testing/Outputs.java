package io.sparktensors.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** What a read or a write produced, gathered for comparison: a folder's files, a scan's whole tensors. */
public final class Outputs {
    private Outputs() {}

    /** Every file of a folder by name, with its bytes. */
    public static Map<String, byte[]> files(Path folder) throws Exception {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(folder)) {
            for (Path p : s.toList()) {
                out.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }

    /** Whole tensors by name: chunks joined in order. */
    public static Map<String, byte[]> tensors(Dataset<Row> df) throws Exception {
        Map<String, TreeMap<Integer, byte[]>> chunks = new TreeMap<>();
        for (Row r : df.select("name", "chunk", "chunk_count", "data").collectAsList()) {
            chunks.computeIfAbsent(r.getString(0), k -> new TreeMap<>()).put(r.getInt(1), (byte[]) r.get(3));
            assertTrue(r.getInt(1) < r.getInt(2));
        }
        Map<String, byte[]> out = new TreeMap<>();
        for (var e : chunks.entrySet()) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            for (byte[] part : e.getValue().values()) {
                bytes.write(part);
            }
            out.put(e.getKey(), bytes.toByteArray());
        }
        return out;
    }
}
