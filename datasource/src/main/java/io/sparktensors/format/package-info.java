/**
 * Engine-free checkpoint formats: the {@link io.sparktensors.format.FormatReader} contract (a file to a
 * {@link io.sparktensors.format.TensorListing} of {@link io.sparktensors.format.StoredTensor}s: byte ranges or
 * small serializable decoders), {@link io.sparktensors.format.DType}, dtype conversion, read limits, little-endian
 * helpers. One sub-package per format.
 *
 * <p>May import: {@code errors}, {@code io}, Jackson. Never {@code checkpoint}, {@code analysis} or Spark.
 */
package io.sparktensors.format;
