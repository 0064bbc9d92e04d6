package io.sparktensors.format.tensorflow;

import io.sparktensors.format.DType;
import java.util.Map;

/** TensorFlow's {@code DataType} codes (types.proto) and the safetensors dtypes that hold the same bytes. */
final class TensorFlowDTypes {
    static final int DT_STRING = 7;

    private static final Map<Integer, DType> SAFETENSORS = Map.ofEntries(
            Map.entry(1, DType.F32),
            Map.entry(2, DType.F64),
            Map.entry(3, DType.I32),
            Map.entry(4, DType.U8),
            Map.entry(5, DType.I16),
            Map.entry(6, DType.I8),
            Map.entry(8, DType.C64),
            Map.entry(9, DType.I64),
            Map.entry(10, DType.BOOL),
            Map.entry(14, DType.BF16),
            Map.entry(17, DType.U16),
            Map.entry(19, DType.F16),
            Map.entry(22, DType.U32),
            Map.entry(23, DType.U64),
            Map.entry(24, DType.F8_E5M2),
            Map.entry(25, DType.F8_E4M3),
            Map.entry(26, DType.F8_E4M3FNUZ),
            Map.entry(28, DType.F8_E5M2FNUZ));

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(0, "DT_INVALID"),
            Map.entry(1, "DT_FLOAT"),
            Map.entry(2, "DT_DOUBLE"),
            Map.entry(3, "DT_INT32"),
            Map.entry(4, "DT_UINT8"),
            Map.entry(5, "DT_INT16"),
            Map.entry(6, "DT_INT8"),
            Map.entry(7, "DT_STRING"),
            Map.entry(8, "DT_COMPLEX64"),
            Map.entry(9, "DT_INT64"),
            Map.entry(10, "DT_BOOL"),
            Map.entry(11, "DT_QINT8"),
            Map.entry(12, "DT_QUINT8"),
            Map.entry(13, "DT_QINT32"),
            Map.entry(14, "DT_BFLOAT16"),
            Map.entry(15, "DT_QINT16"),
            Map.entry(16, "DT_QUINT16"),
            Map.entry(17, "DT_UINT16"),
            Map.entry(18, "DT_COMPLEX128"),
            Map.entry(19, "DT_HALF"),
            Map.entry(20, "DT_RESOURCE"),
            Map.entry(21, "DT_VARIANT"),
            Map.entry(22, "DT_UINT32"),
            Map.entry(23, "DT_UINT64"),
            Map.entry(24, "DT_FLOAT8_E5M2"),
            Map.entry(25, "DT_FLOAT8_E4M3FN"),
            Map.entry(26, "DT_FLOAT8_E4M3FNUZ"),
            Map.entry(27, "DT_FLOAT8_E4M3B11FNUZ"),
            Map.entry(28, "DT_FLOAT8_E5M2FNUZ"),
            Map.entry(29, "DT_INT4"),
            Map.entry(30, "DT_UINT4"),
            Map.entry(31, "DT_INT2"),
            Map.entry(32, "DT_UINT2"));

    private TensorFlowDTypes() {}

    /** The safetensors dtype of the TensorFlow code, or null when there is none. */
    static DType safetensors(int code) {
        return SAFETENSORS.get(code);
    }

    /** The code's name for messages, e.g. {@code DT_RESOURCE}, or {@code dtype 99} when unknown. */
    static String name(int code) {
        return NAMES.getOrDefault(code, "dtype " + code);
    }

    /**
     * Bytes swapped as one unit when a big-endian bundle is read: the element size, or the size of each half
     * of a complex number.
     */
    static int swapWidth(DType dtype) {
        return dtype == DType.C64 ? 4 : dtype.bits() / 8;
    }
}
