/**
 * TensorFlow checkpoints: the SSTable index, bundle entries, data shards with block and tensor CRC32C
 * checks, names from the object graph.
 *
 * <p>May import: {@code format}, {@code format.proto}, {@code io}, {@code errors}.
 */
package io.sparktensors.format.tensorflow;
