package io.sparktensors.format.pytorch;

import io.sparktensors.format.DType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The symbolic values the restricted unpickler builds. Python scalars are Java values ({@code null} for
 * None, Boolean, Long or BigInteger, Double, String); containers and torch objects are the types here.
 * Containers compare by identity and never walk their contents in {@code equals}, {@code hashCode} or
 * {@code toString}, so a hostile deep structure cannot drive a recursion.
 */
final class Pickled {
    private Pickled() {}

    /** A Python tuple; immutable. */
    static final class Tuple {
        final List<Object> items;

        Tuple(List<Object> items) {
            this.items = Collections.unmodifiableList(new ArrayList<>(items));
        }
    }

    /** A Python list. */
    static final class PyList {
        final List<Object> items = new ArrayList<>();
    }

    /** A Python dict or OrderedDict; keys are scalars. */
    static final class PyDict {
        final Map<Object, Object> items = new LinkedHashMap<>();
    }

    /** A leaf that is neither a scalar nor a tensor (a bytearray, a device, a quantized tensor). */
    record Opaque(String type) {}

    /** A Python set or frozenset, in insertion order (a module's {@code _non_persistent_buffers_set}). */
    static final class PySet {
        final List<Object> items = new ArrayList<>();
    }

    /**
     * Python bytes.
     *
     * @param data the bytes
     * @param fileOffset where they lie as they are in the file (BINBYTES of an uncompressed pickle), or -1
     */
    record PyBytes(byte[] data, long fileOffset) {}

    /**
     * A global outside the allowlist, read in the symbolic mode: a name and nothing else. It is never imported
     * or called; REDUCE and NEWOBJ on it only record their arguments in a {@link PyObject}.
     */
    record Symbol(String qualifiedName) {}

    /**
     * What REDUCE, NEWOBJ or NEWOBJ_EX on a {@link Symbol} stands for: the symbol's name, the arguments and
     * whatever BUILD later gives as state (an {@code nn.Module}'s {@code __dict__}, a numpy array's
     * {@code (version, shape, dtype, is_fortran, rawdata)}). A record of data; no behaviour is attached.
     */
    static final class PyObject {
        /** The qualified name of the class or function. */
        final String type;

        final List<Object> args;
        /** NEWOBJ_EX's keyword arguments, or null. */
        final PyDict kwargs;
        /** The state BUILD set, or null. */
        Object state;

        PyObject(String type, List<Object> args, PyDict kwargs) {
            this.type = type;
            this.args = Collections.unmodifiableList(new ArrayList<>(args));
            this.kwargs = kwargs;
        }
    }

    /**
     * A numpy array whose elements the reader can list, recognised in a {@link PyObject} by {@link NumpyArrays}.
     *
     * @param data the raw bytes, in the array's order and byte order
     * @param dtype the safetensors dtype
     * @param shape the shape
     * @param fortran whether the bytes are in column-major order
     * @param bigEndian whether multi-byte elements are big-endian
     */
    record NumpyArray(PyBytes data, DType dtype, long[] shape, boolean fortran, boolean bigEndian) {}

    /**
     * A pickled {@code DTensor}, recognised in a {@link PyObject} by {@link DTensors}: this rank's local shard and
     * what its spec says of the full tensor.
     */
    record DTensor(Tensor local, DTensorSpec spec) {}

    /** An allowlisted global, with what it stands for. */
    record Global(String qualifiedName, Object meaning) {}

    /** The torch functions and classes the unpickler may call. */
    enum Callable {
        ORDERED_DICT,
        REBUILD_TENSOR,
        REBUILD_TENSOR_V2,
        REBUILD_TENSOR_V3,
        REBUILD_PARAMETER,
        REBUILD_PARAMETER_WITH_STATE,
        PARAMETER,
        REBUILD_QTENSOR,
        CODECS_ENCODE,
        SET,
        FROZENSET,
        BYTEARRAY,
        TORCH_SIZE,
        TORCH_DEVICE
    }

    /**
     * A torch storage class or dtype.
     *
     * @param torchName its name, e.g. {@code torch.FloatStorage} or {@code torch.float32}
     * @param dtype the safetensors dtype, or null when there is none (or the storage is untyped)
     * @param elementSize bytes per element (1 for untyped storages, whose sizes count bytes)
     * @param unsupported why it cannot be listed (complex128, quantized), or null
     */
    record ElementType(String torchName, DType dtype, int elementSize, String unsupported) {
        boolean untyped() {
            return dtype == null && unsupported == null;
        }
    }

    /**
     * A storage as a persistent id names it.
     *
     * @param key the record name (zip) or storage key (legacy format)
     * @param type its storage class
     * @param numel its size in its own elements (bytes for an untyped storage)
     */
    record Storage(String key, ElementType type, long numel) {}

    /**
     * A tensor as a {@code _rebuild_tensor*} call describes it; checked against its storage when it is listed.
     *
     * @param elementType the tensor's dtype (the storage's, or the explicit one of {@code _rebuild_tensor_v3})
     * @param offset the first element in the storage
     * @param size the shape
     * @param stride the strides, in elements
     */
    record Tensor(Storage storage, ElementType elementType, long offset, long[] size, long[] stride) {}
}
