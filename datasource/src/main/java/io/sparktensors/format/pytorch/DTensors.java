package io.sparktensors.format.pytorch;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.pytorch.Pickled.DTensor;
import io.sparktensors.format.pytorch.Pickled.ElementType;
import io.sparktensors.format.pytorch.Pickled.Global;
import io.sparktensors.format.pytorch.Pickled.PyDict;
import io.sparktensors.format.pytorch.Pickled.PyObject;
import io.sparktensors.format.pytorch.Pickled.Symbol;
import io.sparktensors.format.pytorch.Pickled.Tensor;
import io.sparktensors.format.pytorch.Pickled.Tuple;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Reads a {@code DTensor} out of the symbolic object its pickle builds, as FSDP2 and tensor-parallel state dicts
 * hold them (what verl and SkyRL {@code torch.save} per rank): {@code torch._tensor._rebuild_from_type_v2(
 * torch._utils._rebuild_wrapper_subclass, DTensor, (DTensor, dtype, size, stride, ...), (None, {"_local_tensor":
 * tensor, "_spec": DTensorSpec}))}, the spec a dataclass of {@code mesh} (a {@code DeviceMesh}: {@code _layout}
 * axes, {@code _rank_map}, {@code _rank}, {@code _coordinate_on_dim}), {@code placements}, {@code tensor_meta}
 * ({@code TensorMeta(shape, stride, dtype)}) and {@code shard_order}. Every field is read by its fixed name from
 * inert records; nothing is imported or called. The rank's coordinate is checked against where the rank sits in
 * the mesh's rank map (through its layout) whenever the file records both.
 */
final class DTensors {
    private static final String REBUILD_FROM_TYPE = "torch._tensor._rebuild_from_type_v2";
    private static final Set<String> DTENSOR_CLASSES = Set.of(
            "torch.distributed.tensor.DTensor",
            "torch.distributed.tensor._api.DTensor",
            "torch.distributed._tensor.api.DTensor",
            "torch.distributed._tensor.DTensor");
    /** Most mesh dimensions; real meshes have at most a handful. */
    static final int MAX_MESH_DIMS = 16;

    private final String file;
    private final String name;

    private DTensors(String file, String name) {
        this.file = file;
        this.name = name;
    }

    /** Whether {@code o} is a pickled {@code DTensor}. */
    static boolean isDTensor(PyObject o) {
        return o.type.equals(REBUILD_FROM_TYPE)
                && o.args.size() == 4
                && o.args.get(1) instanceof Symbol s
                && DTENSOR_CLASSES.contains(s.qualifiedName());
    }

    /**
     * The DTensor {@code o} holds.
     *
     * @param o an object for which {@link #isDTensor} holds
     * @param name its path in the pickle, for messages
     * @throws MalformedTensorFileException when its spec is malformed or places the shard in a way not read
     */
    static DTensor read(String file, String name, PyObject o) throws MalformedTensorFileException {
        return new DTensors(file, name).read(o);
    }

    private DTensor read(PyObject o) throws MalformedTensorFileException {
        Object local = field(o.args.get(3), "_local_tensor");
        if (!(local instanceof Tensor t)) {
            throw fault("its _local_tensor is " + describe(local) + ", not a tensor");
        }
        PyObject spec = record(field(o.args.get(3), "_spec"), "DTensorSpec", "its _spec");
        PyObject mesh = record(field(spec.state, "mesh"), "DeviceMesh", "its spec's mesh");
        long[] meshShape = meshShape(mesh);
        long[] coordinate = longs(field(mesh.state, "_coordinate_on_dim"), "its mesh's _coordinate_on_dim");
        if (coordinate.length != meshShape.length) {
            throw fault("its mesh has " + meshShape.length + " dimensions but this rank's coordinate "
                    + Arrays.toString(coordinate) + " has " + coordinate.length);
        }
        for (int d = 0; d < coordinate.length; d++) {
            if (coordinate[d] >= meshShape[d]) {
                throw fault("this rank's coordinate " + Arrays.toString(coordinate) + " lies outside its mesh of "
                        + Arrays.toString(meshShape));
            }
        }
        long rank = field(mesh.state, "_rank") instanceof Long r && r >= 0 ? r : -1;
        checkRankMap(mesh, rank, meshShape, coordinate);
        List<DTensorSpec.Placement> placements = placements(field(spec.state, "placements"), meshShape.length);
        checkShardOrder(field(spec.state, "shard_order"));
        PyObject meta = record(field(spec.state, "tensor_meta"), "TensorMeta", "its spec's tensor_meta");
        if (meta.args.size() != 3) {
            throw fault("its TensorMeta has " + meta.args.size() + " fields, not (shape, stride, dtype)");
        }
        long[] shape = longs(meta.args.get(0), "its TensorMeta shape");
        if (!(meta.args.get(2) instanceof Global g && g.meaning() instanceof ElementType dtype)
                || g.qualifiedName().endsWith("Storage")) {
            throw fault("its TensorMeta dtype is " + describe(meta.args.get(2)) + ", not a torch dtype");
        }
        if (dtype.dtype() != t.elementType().dtype()
                || dtype.elementSize() != t.elementType().elementSize()) {
            throw fault("its spec says " + dtype.torchName() + " but its local shard is "
                    + t.elementType().torchName());
        }
        if (shape.length != t.size().length) {
            throw fault("its global shape " + Arrays.toString(shape) + " and its local shard "
                    + Arrays.toString(t.size()) + " have different numbers of dimensions");
        }
        for (DTensorSpec.Placement p : placements) {
            if (p.kind() != DTensorSpec.Kind.REPLICATE && p.dim() >= shape.length) {
                throw fault("its placement " + p + " splits dimension " + p.dim() + " of a tensor of " + shape.length
                        + " dimensions");
            }
        }
        if (o.args.get(2) instanceof Tuple wrapper
                && wrapper.items.size() > 2
                && wrapper.items.get(2) instanceof Tuple size
                && !Arrays.equals(longs(size, "its wrapper size"), shape)) {
            throw fault("its wrapper size " + Arrays.toString(longs(size, "its wrapper size"))
                    + " differs from its TensorMeta shape " + Arrays.toString(shape));
        }
        return new DTensor(t, new DTensorSpec(shape, t.elementType().dtype(), meshShape, coordinate, rank, placements));
    }

    /** The mesh's size along each dimension: from its layout's axes, or (torch before 2.9) its mesh tensor. */
    private long[] meshShape(PyObject mesh) throws MalformedTensorFileException {
        Object layout = field(mesh.state, "_layout");
        long[] shape;
        if (layout == null) {
            if (!(field(mesh.state, "mesh") instanceof Tensor m)) {
                throw fault("its mesh has neither a _layout nor a mesh tensor");
            }
            shape = m.size();
        } else {
            List<long[][]> axes = axes(layout);
            shape = new long[axes.size()];
            for (int d = 0; d < shape.length; d++) {
                shape[d] = product(axes.get(d)[0]);
            }
        }
        if (shape.length == 0 || shape.length > MAX_MESH_DIMS) {
            throw fault("its mesh has " + shape.length + " dimensions; 1 to " + MAX_MESH_DIMS + " are read");
        }
        long devices = 1;
        for (long s : shape) {
            if (s < 1) {
                throw fault("its mesh has an empty dimension: " + Arrays.toString(shape));
            }
            devices = multiply(devices, s);
        }
        return shape;
    }

    /** The (shape, stride) of each axis of a {@code _MeshLayout}. */
    private List<long[][]> axes(Object layout) throws MalformedTensorFileException {
        PyObject l = record(layout, "_MeshLayout", "its mesh's _layout");
        if (!(field(l.state, "axes") instanceof Tuple axes)) {
            throw fault("its mesh's _layout has no axes");
        }
        if (axes.items.size() > MAX_MESH_DIMS) {
            throw fault("its mesh has " + axes.items.size() + " dimensions; at most " + MAX_MESH_DIMS + " are read");
        }
        List<long[][]> out = new ArrayList<>();
        for (Object a : axes.items) {
            PyObject flat = record(a, "_FlatLayout", "an axis of its mesh's _layout");
            long[] shape = intOrLongs(field(flat.state, "shape"), "a mesh axis shape");
            long[] stride = intOrLongs(field(flat.state, "stride"), "a mesh axis stride");
            if (shape.length != stride.length) {
                throw fault(
                        "a mesh axis has shape " + Arrays.toString(shape) + " but stride " + Arrays.toString(stride));
            }
            out.add(new long[][] {shape, stride});
        }
        return out;
    }

    /**
     * Where {@code rank} sits in the mesh, from its rank map ({@code _flatten_rank_map}) and layout, must be the
     * coordinate the file records. Skipped when the file records no rank map or layout (older torch).
     */
    private void checkRankMap(PyObject mesh, long rank, long[] meshShape, long[] coordinate)
            throws MalformedTensorFileException {
        Object layout = field(mesh.state, "_layout");
        if (rank < 0 || layout == null || !(field(mesh.state, "_flatten_rank_map") instanceof Tuple map)) {
            return;
        }
        long index = map.items.indexOf(rank);
        if (index < 0) {
            throw fault("its mesh's rank map " + abbreviated(map) + " does not hold rank " + rank
                    + ", the rank that saved it");
        }
        List<long[][]> axes = axes(layout);
        long[] where = new long[axes.size()];
        for (int d = 0; d < where.length; d++) {
            long[] shape = axes.get(d)[0];
            long[] stride = axes.get(d)[1];
            long c = 0;
            for (int i = 0; i < shape.length; i++) {
                if (stride[i] < 0 || shape[i] < 1) {
                    throw fault("a mesh axis has shape " + Arrays.toString(shape) + " and stride "
                            + Arrays.toString(stride));
                }
                c = multiply(c, shape[i]) + (stride[i] == 0 ? 0 : (index / stride[i]) % shape[i]);
            }
            where[d] = c;
        }
        if (!Arrays.equals(where, coordinate)) {
            throw fault("it says rank " + rank + " stands at coordinate " + Arrays.toString(coordinate)
                    + " of its mesh of " + Arrays.toString(meshShape) + ", but the mesh's rank map places it at "
                    + Arrays.toString(where));
        }
    }

    private List<DTensorSpec.Placement> placements(Object value, int meshDims) throws MalformedTensorFileException {
        if (!(value instanceof Tuple t)) {
            throw fault("its placements are " + describe(value) + ", not a tuple");
        }
        if (t.items.size() != meshDims) {
            throw fault("it has " + t.items.size() + " placements for a mesh of " + meshDims + " dimensions");
        }
        List<DTensorSpec.Placement> out = new ArrayList<>();
        for (Object p : t.items) {
            if (!(p instanceof PyObject o)) {
                throw fault("a placement is " + describe(p) + ", not a placement object");
            }
            String type = o.type.substring(o.type.lastIndexOf('.') + 1);
            out.add(
                    switch (type) {
                        case "Replicate" -> new DTensorSpec.Placement(DTensorSpec.Kind.REPLICATE, 0, 1);
                        case "Shard" -> new DTensorSpec.Placement(DTensorSpec.Kind.SHARD, dim(o), 1);
                        case "_StridedShard" -> {
                            long sf = count(field(o.state, "split_factor"), "a _StridedShard's split_factor");
                            if (sf < 1) {
                                throw fault("a _StridedShard has the split_factor " + sf);
                            }
                            yield new DTensorSpec.Placement(DTensorSpec.Kind.STRIDED_SHARD, dim(o), sf);
                        }
                        case "Partial" ->
                            throw fault(
                                    "it is Partial on a mesh dimension: each rank holds an addend of the value, not a"
                                            + " shard of it. Save the state dict after redistributing to Shard or Replicate");
                        default ->
                            throw fault("its placement '" + MalformedTensorFileException.printable(o.type)
                                    + "' is not Shard, _StridedShard or Replicate");
                    });
        }
        return out;
    }

    private int dim(PyObject placement) throws MalformedTensorFileException {
        long d = count(field(placement.state, "dim"), "a placement's dim");
        if (d > PyTorchReader.MAX_RANK) {
            throw fault("a placement splits dimension " + d + ", beyond any tensor");
        }
        return (int) d;
    }

    /**
     * Only the default order is read: each tensor dimension split by its mesh dimensions from left to right (a
     * {@code _StridedShard} encodes the FSDP2-over-TP order itself, with no shard_order).
     */
    private void checkShardOrder(Object value) throws MalformedTensorFileException {
        if (value == null) {
            return;
        }
        if (!(value instanceof Tuple entries)) {
            throw fault("its shard_order is " + describe(value) + ", not a tuple");
        }
        for (Object e : entries.items) {
            if (!(e instanceof PyObject entry)
                    || entry.args.size() != 2
                    || !(entry.args.get(1) instanceof Tuple dims)) {
                throw fault("a shard_order entry is " + describe(e) + ", not ShardOrderEntry(tensor_dim, mesh_dims)");
            }
            long[] meshDims = longs(dims, "a shard_order entry's mesh_dims");
            for (int i = 1; i < meshDims.length; i++) {
                if (meshDims[i] <= meshDims[i - 1]) {
                    throw fault("its shard_order splits a dimension by mesh dimensions " + Arrays.toString(meshDims)
                            + " in that order; only the default left-to-right order is read. Redistribute it to"
                            + " the default order before saving");
                }
            }
        }
    }

    /**
     * A field of a record's state: a dict, or a tuple of (dict or None, slots dict) as objects with
     * {@code __slots__} pickle theirs; null when absent.
     */
    private static Object field(Object state, String key) {
        if (state instanceof PyDict d) {
            return d.items.get(key);
        }
        if (state instanceof Tuple t) {
            for (Object part : t.items) {
                if (part instanceof PyDict d && d.items.containsKey(key)) {
                    return d.items.get(key);
                }
            }
        }
        return null;
    }

    private PyObject record(Object value, String className, String what) throws MalformedTensorFileException {
        if (value instanceof PyObject o && (o.type.equals(className) || o.type.endsWith("." + className))) {
            return o;
        }
        throw fault(what + " is " + describe(value) + ", not a " + className);
    }

    private long count(Object value, String what) throws MalformedTensorFileException {
        if (value instanceof Long l && l >= 0) {
            return l;
        }
        throw fault(what + " is " + describe(value) + ", not a count");
    }

    private long[] longs(Object value, String what) throws MalformedTensorFileException {
        if (!(value instanceof Tuple t)) {
            throw fault(what + " is " + describe(value) + ", not a tuple");
        }
        if (t.items.size() > PyTorchReader.MAX_RANK) {
            throw fault(what + " has " + t.items.size() + " entries, more than " + PyTorchReader.MAX_RANK);
        }
        long[] out = new long[t.items.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = count(t.items.get(i), what);
        }
        return out;
    }

    /** A layout's shape or stride: a tuple of counts, or one count. */
    private long[] intOrLongs(Object value, String what) throws MalformedTensorFileException {
        return value instanceof Long ? new long[] {count(value, what)} : longs(value, what);
    }

    private long product(long[] values) throws MalformedTensorFileException {
        long n = 1;
        for (long v : values) {
            n = multiply(n, v);
        }
        return n;
    }

    private long multiply(long a, long b) throws MalformedTensorFileException {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw fault("its mesh has more devices than a long holds");
        }
    }

    private static String abbreviated(Tuple map) {
        List<Object> items = map.items;
        return items.size() <= 16 ? items.toString() : items.subList(0, 16) + " (" + items.size() + " ranks)";
    }

    private static String describe(Object o) {
        return RestrictedUnpickler.describe(o);
    }

    private MalformedTensorFileException fault(String why) {
        return new MalformedTensorFileException(file, name, "its DTensor spec is not read: " + why + ".");
    }
}
