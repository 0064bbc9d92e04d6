package io.sparktensors.checkpoint;

import java.io.Serializable;
import java.util.Map;
import java.util.Objects;

/**
 * A tensor file as planned: where it is, the length seen when its header was read (readers read only
 * within it), and its {@code __metadata__}.
 */
public record ShardFile(String location, long length, Map<String, String> metadata) implements Serializable {

    public ShardFile {
        Objects.requireNonNull(location, "location");
        metadata = Map.copyOf(metadata);
    }
}
