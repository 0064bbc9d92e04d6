/**
 * A bounded zip central-directory reader (ZIP64 included) for PyTorch and Keras archives; members are
 * byte ranges of the archive (stored members only).
 *
 * <p>May import: {@code format}, {@code io}, {@code errors}.
 */
package io.sparktensors.format.zip;
