package io.sparktensors.spark;

/**
 * The former home of {@link io.sparktensors.spark.reshard.CheckpointReshard}; its static members and the
 * nested {@code Result} are inherited, so {@code CheckpointReshard.run(...)} compiles unchanged.
 *
 * @deprecated use {@link io.sparktensors.spark.reshard.CheckpointReshard}
 */
@Deprecated(since = "0.2.0", forRemoval = true)
public final class CheckpointReshard extends io.sparktensors.spark.reshard.CheckpointReshard {
    private CheckpointReshard() {}
}
