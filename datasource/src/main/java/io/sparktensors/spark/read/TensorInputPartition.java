package io.sparktensors.spark.read;

import io.sparktensors.checkpoint.ReadSplit;
import java.util.Objects;
import org.apache.spark.sql.connector.read.InputPartition;

/** One read task's work, sent to an executor. */
record TensorInputPartition(ReadSplit split) implements InputPartition {
    TensorInputPartition {
        Objects.requireNonNull(split, "split");
    }

    /** The hosts holding most of the split's bytes, so Spark schedules the task beside them. */
    @Override
    public String[] preferredLocations() {
        return split.hosts().toArray(new String[0]);
    }
}
