/**
 * Engine-free checkpoint layouts and planning: Hugging Face index files, read planning ({@link
 * io.sparktensors.checkpoint.ScanPlanner} over a {@link io.sparktensors.io.FileStore}, filtered by a {@link
 * io.sparktensors.checkpoint.TensorPredicate}: files to tensors to chunks to splits with preferred hosts), shard
 * planning with huggingface_hub's rule and the {@link io.sparktensors.checkpoint.AssemblyPlan} the writer and
 * the re-shard job execute. Unit-tested on local files, without Spark.
 *
 * <p>May import: {@code format}, {@code io}, {@code errors}. Never {@code analysis} or Spark.
 */
package io.sparktensors.checkpoint;
