/**
 * ONNX models: initializers and Constant nodes, raw and typed data, external data confined to the model's
 * folder; the protobuf structure is streamed, tensor bytes are located, never loaded.
 *
 * <p>May import: {@code format}, {@code format.proto}, {@code io}, {@code errors}.
 */
package io.sparktensors.format.onnx;
