package io.sparktensors.format.gguf;

import io.sparktensors.format.DType;

/**
 * The ggml tensor types a GGUF file may name (ggml's {@code ggml_type} codes). Unquantized types map to a
 * dtype and are read as plain ranges; Q8_0 and Q4_0 can be dequantized; every other type is refused by name.
 */
enum GgmlType {
    F32(0, DType.F32),
    F16(1, DType.F16),
    Q4_0(2, 32, 18),
    Q4_1(3),
    Q5_0(6),
    Q5_1(7),
    Q8_0(8, 32, 34),
    Q8_1(9),
    Q2_K(10),
    Q3_K(11),
    Q4_K(12),
    Q5_K(13),
    Q6_K(14),
    Q8_K(15),
    IQ2_XXS(16),
    IQ2_XS(17),
    IQ3_XXS(18),
    IQ1_S(19),
    IQ4_NL(20),
    IQ3_S(21),
    IQ2_S(22),
    IQ4_XS(23),
    I8(24, DType.I8),
    I16(25, DType.I16),
    I32(26, DType.I32),
    I64(27, DType.I64),
    F64(28, DType.F64),
    IQ1_M(29),
    BF16(30, DType.BF16),
    Q4_0_4_4(31),
    Q4_0_4_8(32),
    Q4_0_8_8(33),
    TQ1_0(34),
    TQ2_0(35),
    IQ4_NL_4_4(36),
    IQ4_NL_4_8(37),
    IQ4_NL_8_8(38),
    MXFP4(39);

    final int code;
    /** The dtype of an unquantized type, else null. */
    final DType plain;
    /** Elements per block of a type this reader dequantizes, else 0. */
    final int blockElements;
    /** Bytes per such block. */
    final int blockBytes;

    GgmlType(int code) {
        this(code, null, 0, 0);
    }

    GgmlType(int code, DType plain) {
        this(code, plain, 0, 0);
    }

    GgmlType(int code, int blockElements, int blockBytes) {
        this(code, null, blockElements, blockBytes);
    }

    GgmlType(int code, DType plain, int blockElements, int blockBytes) {
        this.code = code;
        this.plain = plain;
        this.blockElements = blockElements;
        this.blockBytes = blockBytes;
    }

    boolean dequantizable() {
        return blockElements > 0;
    }

    /** The type of a code, or null when the code is unknown. */
    static GgmlType of(long code) {
        for (GgmlType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return null;
    }
}
