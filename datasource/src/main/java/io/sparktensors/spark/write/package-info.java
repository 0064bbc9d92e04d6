/**
 * {@code df.write.format("safetensors")}: write options, the first stage that stages each task's rows in
 * part files, the check and plan of the staged tensors, the fast path that copies a plain scan's runs.
 *
 * <p>May import: {@code spark}, {@code spark.reshard} (shard assembly, the committer), the engine-free
 * packages. Never {@code spark.read}: a scan is seen through {@link io.sparktensors.spark.PlannedTensorScan}.
 */
package io.sparktensors.spark.write;
