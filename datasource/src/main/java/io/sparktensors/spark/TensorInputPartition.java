package io.sparktensors.spark;

import io.sparktensors.checkpoint.ReadSplit;
import java.util.Objects;
import org.apache.spark.sql.connector.read.InputPartition;

/** One read task's work, sent to an executor. */
record TensorInputPartition(ReadSplit split) implements InputPartition {
  TensorInputPartition {
    Objects.requireNonNull(split, "split");
  }
}
