package io.sparktensors.format.pytorch;

import io.sparktensors.format.DType;
import io.sparktensors.format.pytorch.Pickled.NumpyArray;
import io.sparktensors.format.pytorch.Pickled.PyBytes;
import io.sparktensors.format.pytorch.Pickled.PyObject;
import io.sparktensors.format.pytorch.Pickled.Symbol;
import io.sparktensors.format.pytorch.Pickled.Tuple;
import java.util.List;
import java.util.Map;

/**
 * Reads a numpy array out of the symbolic object its pickle builds:
 * {@code numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')} (or {@code numpy._core...} since numpy
 * 2), then BUILD with {@code (version, shape, dtype, is_fortran, rawdata)}, the dtype being
 * {@code numpy.dtype(code, False, True)} with BUILD state {@code (3, byteorder, ...)}. Only plain numeric and
 * bool arrays whose dtype safetensors has become tensors; anything else is a reason to skip the value.
 */
final class NumpyArrays {
    private static final List<String> RECONSTRUCT =
            List.of("numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct");
    private static final Map<String, DType> DTYPES = Map.of(
            "f8",
            DType.F64,
            "f4",
            DType.F32,
            "f2",
            DType.F16,
            "i8",
            DType.I64,
            "i4",
            DType.I32,
            "i2",
            DType.I16,
            "i1",
            DType.I8,
            "u1",
            DType.U8,
            "b1",
            DType.BOOL);

    private NumpyArrays() {}

    /** Whether {@code o} is a pickled {@code numpy.ndarray} (of any dtype). */
    static boolean isArray(PyObject o) {
        return RECONSTRUCT.contains(o.type)
                && !o.args.isEmpty()
                && o.args.get(0) instanceof Symbol s
                && s.qualifiedName().equals("numpy.ndarray");
    }

    /**
     * The array {@code o} holds, or a String saying why it is skipped.
     *
     * @param o an object for which {@link #isArray} holds
     */
    static Object read(PyObject o) {
        if (!(o.state instanceof Tuple t) || t.items.size() < 4 || t.items.size() > 5) {
            return "numpy array without the state (version, shape, dtype, is_fortran, rawdata)";
        }
        List<Object> state = t.items.size() == 5 ? t.items.subList(1, 5) : t.items;
        long[] shape = shape(state.get(0));
        if (shape == null) {
            return "numpy array whose shape is not a tuple of non-negative integers";
        }
        if (!(state.get(1) instanceof PyObject d)
                || !d.type.equals("numpy.dtype")
                || d.args.isEmpty()
                || !(d.args.get(0) instanceof String code)) {
            return "numpy array without a numpy.dtype";
        }
        DType dtype = DTYPES.get(code);
        if (dtype == null) {
            return "numpy array of dtype '" + printable(code) + "', which has no safetensors dtype";
        }
        String order = byteOrder(d);
        if (order == null) {
            return "numpy array of dtype '" + code + "' without a byte order ('<', '>' or '|')";
        }
        if (!(state.get(2) instanceof Boolean fortran)) {
            return "numpy array whose is_fortran flag is not a bool";
        }
        if (!(state.get(3) instanceof PyBytes data)) {
            return "numpy array whose data are not bytes";
        }
        long nbytes = dtype.bits() / 8;
        try {
            for (long n : shape) {
                nbytes = Math.multiplyExact(nbytes, n);
            }
        } catch (ArithmeticException e) {
            return "numpy array whose shape overflows 64 bits";
        }
        if (nbytes != data.data().length) {
            return "numpy array of " + data.data().length + " bytes whose shape and dtype need " + nbytes;
        }
        return new NumpyArray(data, dtype, shape, fortran, order.equals(">") && dtype.bits() > 8);
    }

    private static long[] shape(Object v) {
        if (!(v instanceof Tuple t) || t.items.size() > PyTorchReader.MAX_RANK) {
            return null;
        }
        long[] out = new long[t.items.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(t.items.get(i) instanceof Long n) || n < 0) {
                return null;
            }
            out[i] = n;
        }
        return out;
    }

    /** The dtype's byte order: BUILD state {@code (version, byteorder, ...)}. */
    private static String byteOrder(PyObject dtype) {
        if (dtype.state instanceof Tuple t
                && t.items.size() >= 2
                && t.items.get(1) instanceof String s
                && (s.equals("<") || s.equals(">") || s.equals("|"))) {
            return s;
        }
        return null;
    }

    private static String printable(String s) {
        return io.sparktensors.errors.MalformedTensorFileException.printable(s);
    }
}
