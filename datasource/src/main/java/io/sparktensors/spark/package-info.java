/**
 * The Spark binding's shared pieces (the tensor table's columns, the Arrow root allocator, Hadoop
 * configuration, the scan interface the writer's fast path sees) and deprecated aliases under the names the
 * classes had before the binding was split into rooms: {@code source} (data sources and the table),
 * {@code read} (scans), {@code write} (the DataFrame writer), {@code reshard} (the re-shard job and shard
 * assembly), {@code functions} (SQL functions).
 *
 * <p>May import: every engine-free package, Spark, Arrow, Hadoop.
 */
package io.sparktensors.spark;
