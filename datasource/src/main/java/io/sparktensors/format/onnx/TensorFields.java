package io.sparktensors.format.onnx;

import java.util.Map;

/**
 * The fields of one ONNX {@code TensorProto} as the wire reader found them: where its value fields lie in the
 * file, never the values themselves.
 *
 * @param name the tensor's name ("" when absent)
 * @param dataType the {@code data_type} code
 * @param dims the dimensions, outermost first
 * @param raw the {@code raw_data} field, or null
 * @param typed the one typed value field ({@code float_data}, {@code int32_data}, ...), or null
 * @param typedField that field's number
 * @param external whether {@code data_location} is EXTERNAL
 * @param externalData the {@code external_data} entries
 * @param unsupported why the stored form cannot be read (a segment, an unpacked field), or null
 */
record TensorFields(
        String name,
        long dataType,
        long[] dims,
        Run raw,
        Run typed,
        int typedField,
        boolean external,
        Map<String, String> externalData,
        String unsupported) {

    /** A run of bytes in the .onnx file. */
    record Run(long offset, long length) {}
}
