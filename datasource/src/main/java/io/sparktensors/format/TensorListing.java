package io.sparktensors.format;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The tensors one checkpoint file holds, as its format reader listed them.
 *
 * @param location the checkpoint file that was listed
 * @param tensors the tensors, each once, names unique
 * @param metadata string metadata for the file (safetensors {@code __metadata__}, the names dropped for
 *     shared storage, format facts); shown as the {@code file_metadata} column
 * @param skipped values that are not tensors (an epoch counter, RNG state, a string tensor), each described
 *     as {@code "path: why"}; reported, never an error
 */
public record TensorListing(
        String location, List<StoredTensor> tensors, Map<String, String> metadata, List<String> skipped) {

    public TensorListing {
        Objects.requireNonNull(location, "location");
        tensors = List.copyOf(tensors);
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        skipped = List.copyOf(skipped);
    }
}
