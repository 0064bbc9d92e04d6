package io.sparktensors.spark;

/**
 * The former home of {@link io.sparktensors.spark.functions.TensorHashes}; its static members are inherited.
 *
 * @deprecated use {@link io.sparktensors.spark.functions.TensorHashes}
 */
@Deprecated(since = "0.2.0", forRemoval = true)
public final class TensorHashes extends io.sparktensors.spark.functions.TensorHashes {
    private TensorHashes() {}
}
