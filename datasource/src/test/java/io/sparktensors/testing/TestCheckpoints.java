package io.sparktensors.testing;

import io.sparktensors.format.DType;
import io.sparktensors.format.safetensors.HeaderWriter;
import io.sparktensors.format.safetensors.TensorEntry;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Writes safetensors files for tests, with deterministic pseudo-random tensor bytes. */
public final class TestCheckpoints {
    private TestCheckpoints() {}

    /** A tensor to write: its bytes are exactly what the reader must return. */
    public record Tensor(String name, DType dtype, long[] shape, byte[] data) {}

    /** A tensor filled with bytes from a seeded generator. */
    public static Tensor random(String name, DType dtype, long[] shape, long seed) {
        long n = dtype.byteSize(Arrays.stream(shape).reduce(1, Math::multiplyExact));
        byte[] data = new byte[Math.toIntExact(n)];
        new Random(seed).nextBytes(data);
        return new Tensor(name, dtype, shape, data);
    }

    /** Writes the tensors in the given order, with {@code metadata} as {@code __metadata__} (null: none). */
    public static Path write(Path file, Map<String, String> metadata, List<Tensor> tensors) throws IOException {
        List<TensorEntry> entries = new ArrayList<>();
        long offset = 0;
        for (Tensor t : tensors) {
            entries.add(new TensorEntry(t.name(), t.dtype(), t.shape(), offset, offset + t.data().length));
            offset += t.data().length;
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(HeaderWriter.write(metadata, entries));
            for (Tensor t : tensors) {
                out.write(t.data());
            }
        }
        return file;
    }

    /** Writes a Hugging Face index beside shards: weight_map from tensor name to shard file name. */
    public static Path writeIndex(Path folder, Map<String, String> weightMap, long totalSize) throws IOException {
        StringBuilder sb = new StringBuilder("{\"metadata\": {\"total_size\": ")
                .append(totalSize)
                .append("}, \"weight_map\": {");
        String sep = "";
        for (Map.Entry<String, String> e : new LinkedHashMap<>(weightMap).entrySet()) {
            sb.append(sep)
                    .append('"')
                    .append(e.getKey())
                    .append("\": \"")
                    .append(e.getValue())
                    .append('"');
            sep = ", ";
        }
        sb.append("}}");
        return Files.writeString(folder.resolve("model.safetensors.index.json"), sb.toString());
    }
}
