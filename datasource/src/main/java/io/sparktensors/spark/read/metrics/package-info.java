/**
 * The scan's metrics in the Spark UI: header bytes and reads, files and tensors planned, tensor bytes and
 * chunks read, files opened.
 *
 * <p>May import: Spark's metric API only.
 */
package io.sparktensors.spark.read.metrics;
