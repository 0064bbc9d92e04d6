/**
 * Engine-free tensor arithmetic for the SQL functions: exact decoding of every dtype to values,
 * statistics with an exact parallel merge, value-by-value differences, the distance a tensor moved.
 *
 * <p>May import: {@code format}, {@code errors}. Never {@code checkpoint} or Spark.
 */
package io.sparktensors.analysis;
