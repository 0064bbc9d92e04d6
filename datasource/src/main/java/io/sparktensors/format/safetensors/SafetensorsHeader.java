package io.sparktensors.format.safetensors;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A validated safetensors header.
 *
 * @param headerLength the JSON header's length N from the first eight bytes
 * @param metadata the {@code __metadata__} map in file order (empty when absent or null)
 * @param tensors the tensors in data-offset order
 */
public record SafetensorsHeader(long headerLength, Map<String, String> metadata, List<TensorEntry> tensors) {

    public SafetensorsHeader {
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        tensors = List.copyOf(tensors);
    }

    /** Absolute file offset of the first data byte. */
    public long dataStart() {
        return 8 + headerLength;
    }
}
