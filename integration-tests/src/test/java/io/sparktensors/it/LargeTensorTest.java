package io.sparktensors.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.checkpoint.ByteSizes;
import io.sparktensors.format.DType;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.safetensors.HeaderWriter;
import io.sparktensors.format.safetensors.SafetensorsReader;
import io.sparktensors.format.safetensors.TensorEntry;
import io.sparktensors.io.LocalInputFile;
import io.sparktensors.spark.reshard.CheckpointReshard;
import io.sparktensors.spark.reshard.ReshardOptions;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sharded checkpoint larger than executors' memory, with one tensor larger than that memory (and, at full
 * size, than Java's array limit), read, re-sharded and rewritten by executors limited to 1 GB of heap. The
 * tensors' data are holes in sparse files, so making them costs no time, with islands of random bytes at
 * each tensor's start, middle and end and across the 2 GiB offset, so a byte out of place shows. Sizes:
 * {@code -Dspark.tensors.it.largeTensorBytes} (default 320 MiB) and
 * {@code -Dspark.tensors.it.largeCheckpointBytes} (default 800 MiB) for CI; the README reports a run at
 * 2.5 GB and 6 GB. The same sizes as a DCP checkpoint of two ranks ({@link SparseDcpCheckpoint}), converted
 * into HF safetensors by the same executors.
 */
@Timeout(value = 30, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LargeTensorTest {
    private static final long BIG = Long.getLong("spark.tensors.it.largeTensorBytes", 320L << 20) / 4096 * 4096;
    private static final long TOTAL =
            Math.max(BIG, Long.getLong("spark.tensors.it.largeCheckpointBytes", 800L << 20) / 4096 * 4096);
    /** Other tensors are at most this large, one per shard. */
    private static final long FILLER = 1L << 30;

    private static final int ISLAND = 4096;
    private static SparkSession spark;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() {
        spark = Harness.separateExecutors("LargeTensorTest", 2, "1g");
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    /** The SHA-256 of {@code length} bytes of {@code file} from {@code offset}, streamed. */
    private static String sha256(Path file, long offset, long length) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            in.skipNBytes(offset);
            byte[] buffer = new byte[1 << 20];
            for (long left = length; left > 0; ) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                md.update(buffer, 0, n);
                left -= n;
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Writes one shard of F32 tensors (name to byte size) as a sparse file with islands of random bytes. */
    private static void writeShard(Path file, Map<String, Long> tensors, Random random) throws Exception {
        List<HeaderWriter.Spec> specs = new ArrayList<>();
        tensors.forEach((name, bytes) -> specs.add(new HeaderWriter.Spec(
                name,
                DType.F32,
                bytes % 4096 == 0 && bytes >= 4096 ? new long[] {bytes / 4096, 1024} : new long[] {bytes / 4})));
        List<TensorEntry> layout = HeaderWriter.layout(specs);
        byte[] header = HeaderWriter.write(Map.of("format", "pt"), layout);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.write(header);
            long end = header.length;
            for (TensorEntry t : layout) {
                long begin = header.length + t.begin();
                long tensorEnd = header.length + t.end();
                end = Math.max(end, tensorEnd);
                List<Long> at = new ArrayList<>(List.of(begin, begin + t.byteLength() / 2, tensorEnd - ISLAND));
                if (begin < (1L << 31) - ISLAND / 2 && tensorEnd > (1L << 31) + ISLAND / 2) {
                    at.add((1L << 31) - ISLAND / 2); // across the 2 GiB offset, where int arithmetic would break
                }
                for (long p : at) {
                    long from = Math.max(begin, p);
                    int n = (int) Math.min(ISLAND, tensorEnd - from);
                    byte[] island = new byte[Math.max(0, n)];
                    random.nextBytes(island);
                    raf.seek(from);
                    raf.write(island);
                }
            }
            raf.setLength(end); // the rest of the data is holes: zeros
        }
    }

    /** A sharded checkpoint: shard 1 holds the big tensor and a small one; filler tensors fill it to TOTAL. */
    private static Path sourceCheckpoint() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        List<Map<String, Long>> shards = new ArrayList<>();
        Map<String, Long> first = new TreeMap<>(Map.of("big", BIG, "small", 16L));
        shards.add(first);
        long left = TOTAL - BIG;
        for (int i = 0; left > 0; i++) {
            long n = Math.min(FILLER, left);
            shards.add(new TreeMap<>(Map.of(String.format("layers.%02d.weight", i), n)));
            left -= n;
        }
        Random random = new Random(11);
        StringBuilder weightMap = new StringBuilder();
        long total = 0;
        for (int s = 0; s < shards.size(); s++) {
            String name = String.format("model-%05d-of-%05d.safetensors", s + 1, shards.size());
            writeShard(src.resolve(name), shards.get(s), random);
            for (Map.Entry<String, Long> t : shards.get(s).entrySet()) {
                weightMap
                        .append(weightMap.length() == 0 ? "" : ", ")
                        .append('"')
                        .append(t.getKey())
                        .append("\": \"")
                        .append(name)
                        .append('"');
                total += t.getValue();
            }
        }
        Files.writeString(
                src.resolve("model.safetensors.index.json"),
                "{\"metadata\": {\"total_size\": " + total + "}, \"weight_map\": {" + weightMap + "}}",
                StandardCharsets.UTF_8);
        return src;
    }

    /** Each tensor's SHA-256, streamed from the checkpoint's files as its headers place them. */
    private static Map<String, String> fileHashes(Path folder) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.list(folder)) {
            for (Path f :
                    files.filter(p -> p.toString().endsWith(".safetensors")).toList()) {
                for (StoredTensor t : new SafetensorsReader()
                        .listCounted(new LocalInputFile(f), ReadLimits.DEFAULTS)
                        .listing()
                        .tensors()) {
                    out.put(t.name(), sha256(f, t.data().offset(), t.data().length()));
                }
            }
        }
        return out;
    }

    @Test
    void scansReshardsAndRewritesACheckpointLargerThanExecutorMemory() throws Exception {
        Path src = sourceCheckpoint();
        Map<String, String> expected = fileHashes(src);

        // The full scan: every chunk (on the executors) hashes as its range of the file (here).
        List<Row> chunks = spark.read()
                .format("safetensors")
                .load(src.toString())
                .selectExpr("name", "file", "data_offset", "length(data)", "sha2(data, 256)", "chunk_count")
                .collectAsList();
        Map<String, Long> bytes = new TreeMap<>();
        for (Row r : chunks) {
            Path file = Paths.get(new org.apache.hadoop.fs.Path(r.getString(1)).toUri());
            assertEquals(
                    sha256(file, r.getLong(2), r.getInt(3)), r.getString(4), r.getString(0) + " at " + r.getLong(2));
            assertTrue(r.getInt(3) <= 128 << 20, "chunks of at most maxChunkBytes");
            bytes.merge(r.getString(0), (long) r.getInt(3), Long::sum);
        }
        assertEquals(BIG, bytes.get("big"));
        assertEquals(
                TOTAL + 16, bytes.values().stream().mapToLong(Long::longValue).sum());

        // The re-shard job, into shards of another size: every tensor hashes as in the source.
        Path resharded = dir.resolve("resharded");
        CheckpointReshard.run(
                spark,
                src.toString(),
                resharded.toString(),
                ReshardOptions.defaults().withMaxShardSize(ByteSizes.parse("2GB")));
        assertEquals(expected, fileHashes(resharded));

        // The DataFrame writer after a full read: the re-shard job's files, byte for byte.
        Path written = dir.resolve("written");
        spark.read()
                .format("safetensors")
                .load(src.toString())
                .write()
                .format("safetensors")
                .option("maxShardSize", "2GB")
                .save(written.toString());
        try (Stream<Path> files = Files.list(resharded)) {
            for (Path f : files.toList()) {
                Path other = written.resolve(f.getFileName());
                if (f.toString().endsWith(".json")) {
                    assertArrayEquals(
                            Files.readAllBytes(f),
                            Files.readAllBytes(other),
                            f.getFileName().toString());
                } else {
                    assertEquals(
                            sha256(f, 0, Files.size(f)),
                            sha256(other, 0, Files.size(other)),
                            f.getFileName().toString());
                }
            }
        }
    }

    @Test
    void convertsADcpCheckpointLargerThanExecutorMemory() throws Exception {
        // Two ranks' DCP files as FSDP writes them (each tensor a torch.save archive per rank): the big tensor
        // split by rows, a wide one by columns (strided pieces gathered row by row), fillers to TOTAL. The
        // convert job's HF shards hold each full tensor exactly as torch would assemble it from the rank files.
        long rowBytes = 1024 * 4;
        List<SparseDcpCheckpoint.Matrix> matrices = new ArrayList<>();
        matrices.add(new SparseDcpCheckpoint.Matrix("model.big.weight", BIG / rowBytes, 1024, 0));
        matrices.add(new SparseDcpCheckpoint.Matrix("model.wide.weight", (64L << 20) / rowBytes / 2, 2048, 1));
        long left = TOTAL - BIG - (64L << 20);
        for (int i = 0; left > 0; i++) {
            long n = Math.min(256L << 20, left) / (2 * rowBytes) * 2 * rowBytes;
            if (n == 0) {
                break;
            }
            matrices.add(new SparseDcpCheckpoint.Matrix(
                    String.format("model.layers.%02d.weight", i), n / rowBytes, 1024, i % 2));
            left -= n;
        }
        SparseDcpCheckpoint dcp = SparseDcpCheckpoint.write(dir.resolve("dcp"), matrices, new Random(12));
        Map<String, String> expected = new TreeMap<>(dcp.expectedHashes());

        Path converted = dir.resolve("dcp-converted");
        CheckpointReshard.run(
                spark,
                dir.resolve("dcp").toString(),
                converted.toString(),
                ReshardOptions.defaults().withMaxShardSize(ByteSizes.parse("1GB")));
        assertEquals(expected, fileHashes(converted));
    }
}
