package io.sparktensors.spark;

/**
 * The data source's former class name, kept so that {@code format("io.sparktensors.spark.TensorsDataSource")} still
 * works.
 *
 * @deprecated use the short format name, or {@link io.sparktensors.spark.source.TensorsDataSource}
 */
@Deprecated(since = "0.2.0", forRemoval = true)
public final class TensorsDataSource extends io.sparktensors.spark.source.TensorsDataSource {}
