/**
 * Reading: read options and their typed configuration, the scan builder (column pruning, filters converted
 * to the planner's predicate), the scan, input partitions with preferred hosts, partition readers filling Arrow
 * vectors straight from storage.
 *
 * <p>May import: {@code spark}, {@code spark.read.metrics}, the engine-free packages. Never {@code spark.write}
 * or {@code spark.reshard}.
 */
package io.sparktensors.spark.read;
