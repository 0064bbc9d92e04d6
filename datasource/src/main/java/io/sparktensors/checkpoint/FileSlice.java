package io.sparktensors.checkpoint;

import java.io.Serializable;
import java.util.List;
import java.util.Objects;

/** The chunks one task reads from one file, in file-offset order so the file is read front to back. */
public record FileSlice(ShardFile file, List<TensorChunk> chunks) implements Serializable {

    public FileSlice {
        Objects.requireNonNull(file, "file");
        chunks = List.copyOf(chunks);
        for (int i = 1; i < chunks.size(); i++) {
            if (chunks.get(i).offset() < chunks.get(i - 1).offset()) {
                throw new IllegalArgumentException("chunks of " + file.location() + " are not in offset order");
            }
        }
    }

    /** Tensor bytes this slice reads. */
    public long dataBytes() {
        long n = 0;
        for (TensorChunk c : chunks) {
            n += c.length();
        }
        return n;
    }
}
