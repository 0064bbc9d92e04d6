package io.sparktensors.spark;

/**
 * The data source's former class name, kept so that {@code format("io.sparktensors.spark.PyTorchDataSource")} still
 * works.
 *
 * @deprecated use the short format name, or {@link io.sparktensors.spark.source.PyTorchDataSource}
 */
@Deprecated(since = "0.2.0", forRemoval = true)
public final class PyTorchDataSource extends io.sparktensors.spark.source.PyTorchDataSource {}
