/**
 * The one protobuf wire reader (tags, varints, fixed and length-delimited fields, message ends, a nesting
 * limit) over a byte source that streams or holds a window; used by ONNX and TensorFlow.
 *
 * <p>May import: {@code format}, {@code errors}.
 */
package io.sparktensors.format.proto;
