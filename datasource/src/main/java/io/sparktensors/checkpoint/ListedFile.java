package io.sparktensors.checkpoint;

import io.sparktensors.format.TensorListing;

/**
 * A checkpoint file as planning listed it, and what listing it cost.
 *
 * @param file where it is, its length and metadata
 * @param format the format it was read as
 * @param listing its tensors
 * @param bytesRead bytes read to list it
 * @param reads reads made to list it
 */
public record ListedFile(ShardFile file, CheckpointFormat format, TensorListing listing, long bytesRead, long reads) {}
