package io.sparktensors.format.pytorch;

import io.sparktensors.format.DType;
import io.sparktensors.format.pytorch.Pickled.Callable;
import io.sparktensors.format.pytorch.Pickled.ElementType;
import io.sparktensors.format.pytorch.Pickled.Opaque;
import java.util.HashMap;
import java.util.Map;

/**
 * The exact allowlist of globals a {@code torch.save} pickle may name: the functions that rebuild dense
 * tensors and parameters, {@code collections.OrderedDict}, the storage classes, the dtypes, and the few
 * builtins torch's own weights-only loader accepts. Nothing is imported or called; each name maps to the
 * symbolic meaning the unpickler gives it.
 */
final class TorchGlobals {
    private static final Map<String, Object> ALLOWED = new HashMap<>();

    static {
        callable("collections.OrderedDict", Callable.ORDERED_DICT);
        callable("torch._utils._rebuild_tensor", Callable.REBUILD_TENSOR);
        callable("torch._utils._rebuild_tensor_v2", Callable.REBUILD_TENSOR_V2);
        callable("torch._utils._rebuild_tensor_v3", Callable.REBUILD_TENSOR_V3);
        callable("torch._utils._rebuild_parameter", Callable.REBUILD_PARAMETER);
        callable("torch._utils._rebuild_parameter_with_state", Callable.REBUILD_PARAMETER_WITH_STATE);
        callable("torch.nn.parameter.Parameter", Callable.PARAMETER);
        callable("torch._utils._rebuild_qtensor", Callable.REBUILD_QTENSOR);
        callable("_codecs.encode", Callable.CODECS_ENCODE);
        callable("builtins.set", Callable.SET);
        callable("builtins.frozenset", Callable.FROZENSET);
        callable("builtins.bytearray", Callable.BYTEARRAY);
        // Protocol 2 pickles name the builtins by their Python 2 module (pickle's fix_imports).
        callable("__builtin__.set", Callable.SET);
        callable("__builtin__.frozenset", Callable.FROZENSET);
        callable("__builtin__.bytearray", Callable.BYTEARRAY);
        callable("torch.Size", Callable.TORCH_SIZE);
        callable("torch.device", Callable.TORCH_DEVICE);

        storage("DoubleStorage", DType.F64);
        storage("FloatStorage", DType.F32);
        storage("HalfStorage", DType.F16);
        storage("BFloat16Storage", DType.BF16);
        storage("LongStorage", DType.I64);
        storage("IntStorage", DType.I32);
        storage("ShortStorage", DType.I16);
        storage("CharStorage", DType.I8);
        storage("ByteStorage", DType.U8);
        storage("BoolStorage", DType.BOOL);
        storage("ComplexFloatStorage", DType.C64);
        unsupported("torch.ComplexDoubleStorage", 16, "complex128 has no safetensors dtype");
        unsupported("torch.QInt8Storage", 1, "quantized tensors have no safetensors dtype");
        unsupported("torch.QUInt8Storage", 1, "quantized tensors have no safetensors dtype");
        unsupported("torch.QInt32Storage", 4, "quantized tensors have no safetensors dtype");
        unsupported("torch.QUInt4x2Storage", 1, "quantized tensors have no safetensors dtype");
        unsupported("torch.QUInt2x4Storage", 1, "quantized tensors have no safetensors dtype");
        ALLOWED.put("torch.storage.UntypedStorage", new ElementType("torch.storage.UntypedStorage", null, 1, null));

        dtype("float64", DType.F64);
        dtype("float32", DType.F32);
        dtype("float16", DType.F16);
        dtype("bfloat16", DType.BF16);
        dtype("int64", DType.I64);
        dtype("int32", DType.I32);
        dtype("int16", DType.I16);
        dtype("int8", DType.I8);
        dtype("uint8", DType.U8);
        dtype("bool", DType.BOOL);
        dtype("complex64", DType.C64);
        dtype("uint16", DType.U16);
        dtype("uint32", DType.U32);
        dtype("uint64", DType.U64);
        dtype("float8_e4m3fn", DType.F8_E4M3);
        dtype("float8_e5m2", DType.F8_E5M2);
        dtype("float8_e4m3fnuz", DType.F8_E4M3FNUZ);
        dtype("float8_e5m2fnuz", DType.F8_E5M2FNUZ);
        dtype("float8_e8m0fnu", DType.F8_E8M0);
        unsupported("torch.complex128", 16, "complex128 has no safetensors dtype");
        unsupported("torch.complex32", 4, "complex32 has no safetensors dtype");

        for (String scheme : new String[] {
            "per_tensor_affine",
            "per_channel_affine",
            "per_tensor_symmetric",
            "per_channel_symmetric",
            "per_channel_affine_float_qparams"
        }) {
            ALLOWED.put("torch." + scheme, new Opaque("torch.qscheme"));
        }
    }

    private TorchGlobals() {}

    /**
     * What the global {@code module.name} stands for: a {@link Callable}, an {@link ElementType} or an
     * {@link Opaque} constant; null when it is not allowed.
     */
    static Object meaning(String qualifiedName) {
        return ALLOWED.get(qualifiedName);
    }

    private static void callable(String name, Callable c) {
        ALLOWED.put(name, c);
    }

    private static void storage(String className, DType dtype) {
        String name = "torch." + className;
        ALLOWED.put(name, new ElementType(name, dtype, dtype.bits() / 8, null));
    }

    private static void dtype(String torchName, DType dtype) {
        String name = "torch." + torchName;
        ALLOWED.put(name, new ElementType(name, dtype, dtype.bits() / 8, null));
    }

    private static void unsupported(String name, int elementSize, String why) {
        ALLOWED.put(name, new ElementType(name, null, elementSize, why));
    }
}
