/**
 * Keras 2 {@code .h5}, Keras 3 {@code .weights.h5} and {@code .keras} archives, read through jHDF with
 * every HDF5 size bounded before jHDF allocates.
 *
 * <p>May import: {@code format}, {@code format.zip}, {@code io}, {@code errors}, jHDF.
 */
package io.sparktensors.format.keras;
