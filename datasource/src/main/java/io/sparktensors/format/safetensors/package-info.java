/**
 * The safetensors header codec: a streaming parser with every rule of the reference library, validation,
 * the header writer used by the checkpoint writer, and the reader.
 *
 * <p>May import: {@code format}, {@code io}, {@code errors}, Jackson.
 */
package io.sparktensors.format.safetensors;
