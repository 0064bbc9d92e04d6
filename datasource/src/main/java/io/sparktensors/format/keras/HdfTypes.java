package io.sparktensors.format.keras;

import io.jhdf.object.datatype.DataType;
import io.jhdf.object.datatype.EnumDataType;
import io.jhdf.object.datatype.FixedPoint;
import io.jhdf.object.datatype.FloatingPoint;
import io.sparktensors.format.DType;
import java.nio.ByteOrder;
import java.util.Map;

/**
 * The safetensors dtype of an HDF5 element type, for the types numpy and h5py write: IEEE floats of 2, 4
 * and 8 bytes, full-width integers of 1 to 8 bytes, and h5py's boolean (an enum FALSE=0, TRUE=1 over a
 * signed byte). Anything else (strings, compounds, arrays, padded or odd-sized numbers) has none.
 */
final class HdfTypes {
    private HdfTypes() {}

    /** A supported element type: the dtype and whether its bytes must be swapped to little-endian. */
    record Element(DType dtype, boolean bigEndian) {
        int size() {
            return dtype.bits() / 8;
        }
    }

    /** The element type, or null when it is not one of the supported types. */
    static Element of(DataType type) {
        if (type instanceof FloatingPoint f) {
            DType d = ieeeFloat(f);
            return d == null ? null : new Element(d, f.getByteOrder() == ByteOrder.BIG_ENDIAN);
        }
        if (type instanceof FixedPoint x) {
            DType d = integer(x);
            return d == null ? null : new Element(d, x.getSize() > 1 && x.getByteOrder() == ByteOrder.BIG_ENDIAN);
        }
        if (type instanceof EnumDataType e && isNumpyBool(e)) {
            return new Element(DType.BOOL, false);
        }
        return null;
    }

    /** Names a type for a report, e.g. {@code "string (8 bytes)"}. */
    static String describe(DataType type) {
        String kind = type.getClass()
                .getSimpleName()
                .replaceAll("([a-z])([A-Z])", "$1 $2")
                .toLowerCase();
        return kind + " (" + type.getSize() + " bytes)";
    }

    private static DType ieeeFloat(FloatingPoint f) {
        if (f.getBitOffset() != 0 || f.getBitPrecision() != f.getSize() * 8) {
            return null;
        }
        return switch (f.getSize()) {
            case 2 -> f.getExponentSize() == 5 && f.getMantissaSize() == 10 ? DType.F16 : null;
            case 4 -> f.getExponentSize() == 8 && f.getMantissaSize() == 23 ? DType.F32 : null;
            case 8 -> f.getExponentSize() == 11 && f.getMantissaSize() == 52 ? DType.F64 : null;
            default -> null;
        };
    }

    private static DType integer(FixedPoint x) {
        if (x.getBitOffset() != 0 || x.getBitPrecision() != x.getSize() * 8) {
            return null;
        }
        boolean signed = x.isSigned();
        return switch (x.getSize()) {
            case 1 -> signed ? DType.I8 : DType.U8;
            case 2 -> signed ? DType.I16 : DType.U16;
            case 4 -> signed ? DType.I32 : DType.U32;
            case 8 -> signed ? DType.I64 : DType.U64;
            default -> null;
        };
    }

    private static boolean isNumpyBool(EnumDataType e) {
        return e.getSize() == 1
                && e.getBaseType() instanceof FixedPoint base
                && base.getSize() == 1
                && e.getEnumMapping().equals(Map.of(0, "FALSE", 1, "TRUE"));
    }
}
