package io.sparktensors.io;

/** How a stream will be read, so object stores can choose ranged GETs or one long GET. */
public enum ReadPolicy {
    /** A few small positioned reads, such as a header. */
    RANDOM,
    /** Long forward reads of tensor data. */
    SEQUENTIAL
}
