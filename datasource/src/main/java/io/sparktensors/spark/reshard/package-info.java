/**
 * The re-shard and convert job as a Spark action, shard assembly (one task per output shard streaming byte
 * ranges through a fixed buffer) and the staged commit both it and the writer publish through.
 *
 * <p>May import: {@code spark}, {@code spark.read} (read options), the engine-free packages.
 */
package io.sparktensors.spark.reshard;
