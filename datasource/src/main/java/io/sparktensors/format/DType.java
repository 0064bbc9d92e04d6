package io.sparktensors.format;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The safetensors dtype codes, with the bits each element takes (the reference library's list). */
public enum DType {
    BOOL(8),
    U8(8),
    I8(8),
    I16(16),
    U16(16),
    I32(32),
    U32(32),
    I64(64),
    U64(64),
    F16(16),
    BF16(16),
    F32(32),
    F64(64),
    C64(64),
    F8_E4M3(8),
    F8_E5M2(8),
    F8_E8M0(8),
    F8_E4M3FNUZ(8),
    F8_E5M2FNUZ(8),
    F4(4),
    F6_E2M3(6),
    F6_E3M2(6);

    private static final Map<String, DType> BY_CODE = new HashMap<>();
    /** The reference library's dtype order (its enum order): writers lay tensors out by it, descending. */
    private static final List<DType> REFERENCE_ORDER = List.of(
            BOOL,
            F4,
            F6_E2M3,
            F6_E3M2,
            U8,
            I8,
            F8_E5M2,
            F8_E4M3,
            F8_E8M0,
            F8_E4M3FNUZ,
            F8_E5M2FNUZ,
            I16,
            U16,
            F16,
            BF16,
            I32,
            U32,
            F32,
            C64,
            F64,
            I64,
            U64);

    static {
        for (DType d : values()) {
            BY_CODE.put(d.name(), d);
        }
    }

    /**
     * Rank in the reference library's dtype order; its writer places tensors of higher rank first, so larger
     * elements come first and every tensor stays aligned.
     */
    public int referenceRank() {
        return REFERENCE_ORDER.indexOf(this);
    }

    private final int bits;

    DType(int bits) {
        this.bits = bits;
    }

    /** Bits per element (4 and 6 for the sub-byte float formats). */
    public int bits() {
        return bits;
    }

    /** The code as written in headers, e.g. {@code "BF16"}. */
    public String code() {
        return name();
    }

    /** The dtype for a header code, or null when the code is unknown. Codes are case-sensitive. */
    public static DType fromCode(String code) {
        return BY_CODE.get(code);
    }

    /**
     * Bytes taken by {@code elements} elements, or -1 when they do not fill a whole number of bytes.
     *
     * @throws ArithmeticException on overflow
     */
    public long byteSize(long elements) {
        long totalBits = Math.multiplyExact(elements, (long) bits);
        return totalBits % 8 == 0 ? totalBits / 8 : -1;
    }
}
