package io.sparktensors.examples;

import io.sparktensors.format.DType;
import io.sparktensors.format.safetensors.HeaderWriter;
import io.sparktensors.format.safetensors.TensorEntry;
import io.sparktensors.spark.reshard.CheckpointReshard;
import io.sparktensors.spark.reshard.ReshardOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/**
 * {@code spark-tensors bench-scale}: a checkpoint shaped like a frontier mixture-of-experts model (FP8
 * expert weights with F32 scales: 100,000 tensors in 160 shards, about 700 GB declared) built as sparse files,
 * real headers and holes for the data, so it costs no disk. Times the header-only listing and the planning of
 * a re-shard, and reports the driver heap each needed.
 */
public final class ScaleBenchmark {
    private ScaleBenchmark() {}

    public static void run(SparkSession spark, int shards, int tensors, Path dir, PrintStream out) throws Exception {
        long declared = makeSparseCheckpoint(dir, shards, tensors);
        out.printf(
                "checkpoint: %s, %d shards, %,d tensors, %.0f GB declared (sparse); heap limit %d MB%n",
                dir, shards, tensors, declared / 1e9, Runtime.getRuntime().maxMemory() >> 20);
        spark.range(4).count();
        for (int round = 0; round < 2; round++) { // the first round warms the JIT
            HeapPeaks.reset();
            long t0 = System.nanoTime();
            long rows = spark.read()
                    .format("safetensors")
                    .load(dir.toString())
                    .select("name", "dtype", "shape", "file")
                    .collectAsList()
                    .size();
            double listing = (System.nanoTime() - t0) / 1e9;
            long listingHeap = HeapPeaks.bytes();
            HeapPeaks.reset();
            t0 = System.nanoTime();
            int planned = CheckpointReshard.plan(
                            spark, dir.toString(), ReshardOptions.defaults().withMaxShardSize(5_000_000_000L))
                    .shards()
                    .shards()
                    .size();
            double planning = (System.nanoTime() - t0) / 1e9;
            if (round == 1) {
                out.printf(
                        "header-only listing      %6.2f s  %,d rows  peak driver heap %d MB%n",
                        listing, rows, listingHeap >> 20);
                out.printf(
                        "re-shard planning        %6.2f s  %d shards of 5 GB  peak driver heap %d MB%n",
                        planning, planned, HeapPeaks.bytes() >> 20);
            }
        }
    }

    /** FP8 expert weights and their F32 scales, spread evenly over the shards; data left as holes. */
    static long makeSparseCheckpoint(Path dir, int shards, int tensors) throws IOException {
        Files.createDirectories(dir);
        int perShard = (tensors + shards - 1) / shards;
        long declared = 0;
        int t = 0;
        for (int s = 0; s < shards; s++) {
            Path file = dir.resolve(String.format("model-%05d-of-%05d.safetensors", s + 1, shards));
            List<HeaderWriter.Spec> specs = new ArrayList<>();
            for (int i = 0; i < perShard && t < tensors; i++, t++) {
                int layer = t / 2048;
                int expert = (t / 8) % 256;
                String proj = new String[] {"gate_proj", "up_proj", "down_proj", "shared"}[(t / 2) % 4];
                if (t % 2 == 0) {
                    specs.add(new HeaderWriter.Spec(
                            String.format("model.layers.%d.mlp.experts.%d.%s.%d.weight", layer, expert, proj, t),
                            DType.F8_E4M3,
                            new long[] {2048, 7168}));
                } else {
                    specs.add(new HeaderWriter.Spec(
                            String.format(
                                    "model.layers.%d.mlp.experts.%d.%s.%d.weight_scale_inv", layer, expert, proj, t),
                            DType.F32,
                            new long[] {16, 56}));
                }
            }
            List<TensorEntry> layout = HeaderWriter.layout(specs);
            byte[] header = HeaderWriter.write(Map.of("format", "pt"), layout);
            long length = header.length + layout.get(layout.size() - 1).end();
            declared += length;
            if (Files.exists(file) && Files.size(file) == length) {
                continue;
            }
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                raf.setLength(0);
                raf.write(header);
                raf.setLength(length); // a hole: no disk for the data
            }
        }
        return declared;
    }
}
