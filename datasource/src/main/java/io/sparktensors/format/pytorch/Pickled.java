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

  /** A leaf that is neither a scalar nor a tensor (bytes, a set, a device, a quantized tensor). */
  record Opaque(String type) {}

  /** An allowlisted global, with what it stands for. */
  record Global(String qualifiedName, Object meaning) {}

  /** The torch functions and classes the unpickler may call. */
  enum Callable {
    ORDERED_DICT, REBUILD_TENSOR, REBUILD_TENSOR_V2, REBUILD_TENSOR_V3, REBUILD_PARAMETER,
    REBUILD_PARAMETER_WITH_STATE, PARAMETER, REBUILD_QTENSOR, CODECS_ENCODE, SET, FROZENSET, BYTEARRAY,
    TORCH_SIZE, TORCH_DEVICE
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
