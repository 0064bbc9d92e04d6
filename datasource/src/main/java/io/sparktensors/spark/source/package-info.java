/**
 * The {@code DataSourceRegister} classes ({@code format("safetensors")}, {@code "pytorch"}, {@code
 * "tensorflow"}, {@code "keras"}, {@code "onnx"}, {@code "gguf"}, {@code "tensors"}) and the table they serve.
 *
 * <p>May import: {@code spark}, {@code spark.read}, {@code spark.write}, the engine-free packages.
 */
package io.sparktensors.spark.source;
