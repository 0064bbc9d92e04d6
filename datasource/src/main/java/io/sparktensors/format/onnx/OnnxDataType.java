package io.sparktensors.format.onnx;

import io.sparktensors.format.DType;

/**
 * ONNX {@code TensorProto.DataType} codes: the output dtype of each, and the typed field that holds its values
 * when they are not in {@code raw_data}. Types without an output dtype are skipped and reported.
 */
enum OnnxDataType {
    FLOAT(1, DType.F32, Storage.FLOAT_DATA),
    UINT8(2, DType.U8, Storage.INT32_DATA, 0, 0xff),
    INT8(3, DType.I8, Storage.INT32_DATA, Byte.MIN_VALUE, Byte.MAX_VALUE),
    UINT16(4, DType.U16, Storage.INT32_DATA, 0, 0xffff),
    INT16(5, DType.I16, Storage.INT32_DATA, Short.MIN_VALUE, Short.MAX_VALUE),
    INT32(6, DType.I32, Storage.INT32_DATA, Integer.MIN_VALUE, Integer.MAX_VALUE),
    INT64(7, DType.I64, Storage.INT64_DATA, Long.MIN_VALUE, Long.MAX_VALUE),
    STRING(8, null, Storage.NONE),
    BOOL(9, DType.BOOL, Storage.INT32_DATA, 0, 1),
    // Half floats travel in int32_data as their 16 bits, 8-bit floats as their 8 bits.
    FLOAT16(10, DType.F16, Storage.INT32_DATA, 0, 0xffff),
    DOUBLE(11, DType.F64, Storage.DOUBLE_DATA),
    UINT32(12, DType.U32, Storage.UINT64_DATA, 0, 0xffff_ffffL),
    // All 64 bits are the value, so no range check: min and max span every long.
    UINT64(13, DType.U64, Storage.UINT64_DATA, Long.MIN_VALUE, Long.MAX_VALUE),
    COMPLEX64(14, DType.C64, Storage.FLOAT_DATA),
    COMPLEX128(15, null, Storage.NONE),
    BFLOAT16(16, DType.BF16, Storage.INT32_DATA, 0, 0xffff),
    FLOAT8E4M3FN(17, DType.F8_E4M3, Storage.INT32_DATA, 0, 0xff),
    FLOAT8E4M3FNUZ(18, DType.F8_E4M3FNUZ, Storage.INT32_DATA, 0, 0xff),
    FLOAT8E5M2(19, DType.F8_E5M2, Storage.INT32_DATA, 0, 0xff),
    FLOAT8E5M2FNUZ(20, DType.F8_E5M2FNUZ, Storage.INT32_DATA, 0, 0xff),
    UINT4(21, null, Storage.NONE),
    INT4(22, null, Storage.NONE),
    FLOAT4E2M1(23, null, Storage.NONE),
    FLOAT8E8M0(24, DType.F8_E8M0, Storage.INT32_DATA, 0, 0xff),
    UINT2(25, null, Storage.NONE),
    INT2(26, null, Storage.NONE);

    /** The typed TensorProto fields, by field number. */
    enum Storage {
        NONE(0),
        FLOAT_DATA(4),
        INT32_DATA(5),
        INT64_DATA(7),
        DOUBLE_DATA(10),
        UINT64_DATA(11);

        final int field;

        Storage(int field) {
            this.field = field;
        }

        /** Whether the field is packed varints (the others are packed little-endian fixed-width values). */
        boolean varints() {
            return this == INT32_DATA || this == INT64_DATA || this == UINT64_DATA;
        }

        static String fieldName(int field) {
            return switch (field) {
                case 4 -> "float_data";
                case 5 -> "int32_data";
                case 7 -> "int64_data";
                case 10 -> "double_data";
                case 11 -> "uint64_data";
                default -> "field " + field;
            };
        }
    }

    final int code;
    final DType dtype;
    final Storage storage;
    final long min;
    final long max;

    OnnxDataType(int code, DType dtype, Storage storage) {
        this(code, dtype, storage, 0, 0);
    }

    OnnxDataType(int code, DType dtype, Storage storage, long min, long max) {
        this.code = code;
        this.dtype = dtype;
        this.storage = storage;
        this.min = min;
        this.max = max;
    }

    /** The type for a code, or null when the code is unknown. */
    static OnnxDataType of(long code) {
        for (OnnxDataType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return null;
    }
}
