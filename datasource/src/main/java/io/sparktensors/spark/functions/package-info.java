/**
 * The tensor SQL functions ({@code tensor_stats}, {@code tensor_to_array}, ...), their registration by
 * session extension or call, and per-tensor hashes.
 *
 * <p>May import: {@code spark}, {@code analysis}, {@code format}, {@code errors}.
 */
package io.sparktensors.spark.functions;
