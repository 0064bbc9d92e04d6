package io.sparktensors.format.pytorch;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.pytorch.Pickled.NumpyArray;
import io.sparktensors.format.pytorch.Pickled.Opaque;
import io.sparktensors.format.pytorch.Pickled.PyDict;
import io.sparktensors.format.pytorch.Pickled.PyList;
import io.sparktensors.format.pytorch.Pickled.PyObject;
import io.sparktensors.format.pytorch.Pickled.PySet;
import io.sparktensors.format.pytorch.Pickled.Tensor;
import io.sparktensors.format.pytorch.Pickled.Tuple;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds the tensors in an unpickled object tree, each named by its path: dict keys and list indexes joined
 * with ".". A bare tensor as the whole pickle is named {@value #BARE_TENSOR_NAME}. When every tensor lives
 * under one top-level key whose value is a dict (a checkpoint's {@code state_dict} or {@code model}), that
 * key is dropped from the names. Everything that is not a tensor is reported as skipped ("epoch: int").
 * Iterative, bounded by {@code maxNesting} in depth and {@code maxTensors} in tensors; a container reached
 * twice is walked once.
 *
 * <p>Symbolic objects (the symbolic pickle mode): a pickled {@code nn.Module} (an object whose state holds
 * {@code _parameters}, {@code _buffers} and {@code _modules}) is walked as {@code state_dict()} walks it:
 * parameters, then persistent buffers, then submodules, in insertion order, None skipped, so its tensors
 * are named exactly as its state_dict names them. A module that contains itself is refused. A numpy array
 * whose dtype safetensors has is a tensor ({@link NumpyArrays}), and so is a {@code DTensor} (its local shard, with
 * its spec: {@link DTensors}); every other object is skipped.
 */
final class TensorPaths {
    /** The name of a tensor that is the whole pickle. */
    static final String BARE_TENSOR_NAME = "tensor";
    /** Skipped values listed one by one; the rest are counted. */
    static final int MAX_SKIPPED_LISTED = 1000;

    private static final String ROOT = "<root>";

    /**
     * The tensors ({@link Tensor}, {@link NumpyArray} or {@link Pickled.DTensor}) by name, in pickle order, and the
     * values skipped.
     */
    record Found(Map<String, Object> tensors, List<String> skipped) {}

    private record Node(String path, String top, Object value, int depth, Node parent) {}

    private final String file;
    private final ReadLimits limits;
    private final List<Node> tensors = new ArrayList<>();
    private final List<String> skipped = new ArrayList<>();
    private long skippedCount;

    private TensorPaths(String file, ReadLimits limits) {
        this.file = file;
        this.limits = limits;
    }

    static Found find(String file, Object root, ReadLimits limits) throws MalformedTensorFileException {
        return new TensorPaths(file, limits).walk(root);
    }

    private Found walk(Object root) throws MalformedTensorFileException {
        if (root instanceof Tensor t) {
            return new Found(Map.of(BARE_TENSOR_NAME, t), List.of());
        }
        // A bare numpy array is named like a bare tensor (see names()).
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Deque<Node> pending = new ArrayDeque<>();
        pending.push(new Node("", null, root, 0, null));
        long pathChars = 0;
        while (!pending.isEmpty()) {
            Node n = pending.pop();
            Object v = n.value();
            List<Map.Entry<String, Object>> children = children(v);
            if (children == null) {
                leaf(n);
                continue;
            }
            if (!seen.add(v)) {
                if (v instanceof PyObject && isAncestor(v, n.parent())) {
                    throw new MalformedTensorFileException(
                            file,
                            null,
                            "the module at '"
                                    + MalformedTensorFileException.printable(n.path())
                                    + "' contains itself (a cycle of _modules);"
                                    + " the file is corrupt or hostile");
                }
                skip(n.path(), "the same " + RestrictedUnpickler.typeName(v) + " again; its tensors are listed once");
                continue;
            }
            if (n.depth() >= limits.maxNesting()) {
                throw new MalformedTensorFileException(
                        file,
                        null,
                        "the pickle nests containers deeper than "
                                + limits.maxNesting() + " levels at '"
                                + MalformedTensorFileException.printable(n.path())
                                + "'. If the file is trusted, raise the read option maxNesting.");
            }
            for (int i = children.size() - 1; i >= 0; i--) {
                Map.Entry<String, Object> c = children.get(i);
                // Paths repeat their parents: a long key over many children must not build strings without bound.
                pathChars += n.path().length() + 1L + c.getKey().length();
                if (pathChars > limits.maxHeaderBytes()) {
                    throw new MalformedTensorFileException(
                            file,
                            null,
                            "the names of its values would take more than "
                                    + limits.maxHeaderBytes()
                                    + " characters (long keys over many entries). If the file is trusted, "
                                    + "raise the read option maxHeaderBytes.");
                }
                String path = n.path().isEmpty() ? c.getKey() : n.path() + "." + c.getKey();
                pending.push(new Node(path, n.top() == null ? c.getKey() : n.top(), c.getValue(), n.depth() + 1, n));
            }
        }
        if (skippedCount > skipped.size()) {
            skipped.add("... and " + (skippedCount - skipped.size()) + " more values that are not tensors");
        }
        return new Found(names(root), skipped);
    }

    private static boolean isAncestor(Object v, Node parent) {
        for (Node p = parent; p != null; p = p.parent()) {
            if (p.value() == v) {
                return true;
            }
        }
        return false;
    }

    private void leaf(Node n) throws MalformedTensorFileException {
        Object v = n.value();
        String path = n.path().isEmpty() ? ROOT : n.path();
        if (v instanceof PyObject o && NumpyArrays.isArray(o)) {
            Object array = NumpyArrays.read(o);
            if (array instanceof NumpyArray a) {
                tensor(new Node(n.path(), n.top(), a, n.depth(), n.parent()));
            } else {
                skip(path, (String) array);
            }
        } else if (v instanceof PyObject o && DTensors.isDTensor(o)) {
            Pickled.DTensor d = DTensors.read(file, path, o);
            if (d.local().elementType().unsupported() != null) {
                skip(path, d.local().elementType().unsupported());
            } else {
                tensor(new Node(n.path(), n.top(), d, n.depth(), n.parent()));
            }
        } else if (v instanceof Tensor t && t.elementType().unsupported() != null) {
            skip(path, t.elementType().unsupported());
        } else if (v instanceof Tensor) {
            tensor(n);
        } else if (v instanceof Opaque o && o.type().equals("quantized tensor")) {
            skip(path, "quantized tensors have no safetensors dtype");
        } else {
            skip(path, RestrictedUnpickler.typeName(v));
        }
    }

    private void tensor(Node n) throws MalformedTensorFileException {
        if (tensors.size() >= limits.maxTensors()) {
            throw new MalformedTensorFileException(
                    file,
                    null,
                    "it holds more than " + limits.maxTensors()
                            + " tensors. If the file is trusted, raise the read option maxTensors.");
        }
        tensors.add(n);
    }

    private void skip(String path, String why) {
        skippedCount++;
        if (skipped.size() < MAX_SKIPPED_LISTED) {
            skipped.add(path + ": " + why);
        }
    }

    /** Tensor names, without the top-level key when all tensors share it and it holds a dict. */
    private Map<String, Object> names(Object root) throws MalformedTensorFileException {
        String wrapper = tensors.isEmpty() ? null : tensors.get(0).top();
        for (Node n : tensors) {
            if (n.top() == null || !n.top().equals(wrapper) || n.path().equals(wrapper)) { // null: the root itself
                wrapper = null;
                break;
            }
        }
        boolean drop = wrapper != null && root instanceof PyDict d && d.items.get(key(d, wrapper)) instanceof PyDict;
        Map<String, Object> out = new LinkedHashMap<>();
        for (Node n : tensors) {
            String name =
                    n.path().isEmpty() ? BARE_TENSOR_NAME : drop ? n.path().substring(wrapper.length() + 1) : n.path();
            if (out.put(name, n.value()) != null) {
                throw new MalformedTensorFileException(
                        file,
                        name,
                        "two tensors have this name (dict keys joined"
                                + " with '.' collide); rename one of them and save again");
            }
        }
        return out;
    }

    /** The key of {@code d} whose path segment is {@code segment}. */
    private static Object key(PyDict d, String segment) {
        for (Object k : d.items.keySet()) {
            if (segment(k).equals(segment)) {
                return k;
            }
        }
        return null;
    }

    /** A container's children as (path segment, value), or null for a leaf. */
    private static List<Map.Entry<String, Object>> children(Object v) {
        List<Object> items;
        if (v instanceof PyDict d) {
            List<Map.Entry<String, Object>> out = new ArrayList<>(d.items.size());
            d.items.forEach((k, x) -> out.add(new SimpleImmutableEntry<>(segment(k), x)));
            return out;
        } else if (v instanceof PyList l) {
            items = l.items;
        } else if (v instanceof Tuple t) {
            items = t.items;
        } else if (v instanceof PyObject o && moduleState(o) != null) {
            return moduleChildren(moduleState(o));
        } else {
            return null;
        }
        List<Map.Entry<String, Object>> out = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            out.add(new SimpleImmutableEntry<>(Integer.toString(i), items.get(i)));
        }
        return out;
    }

    /** A module's {@code __dict__}, or null when {@code o} is not a pickled {@code nn.Module}. */
    private static PyDict moduleState(PyObject o) {
        if (o.state instanceof PyDict d
                && d.items.get("_parameters") instanceof PyDict
                && d.items.get("_buffers") instanceof PyDict
                && d.items.get("_modules") instanceof PyDict) {
            return d;
        }
        return null;
    }

    /** What {@code Module.state_dict()} holds: parameters, persistent buffers, then submodules; None skipped. */
    private static List<Map.Entry<String, Object>> moduleChildren(PyDict state) {
        Set<Object> nonPersistent = new java.util.HashSet<>();
        if (state.items.get("_non_persistent_buffers_set") instanceof PySet s) {
            nonPersistent.addAll(s.items);
        }
        List<Map.Entry<String, Object>> out = new ArrayList<>();
        for (String group : new String[] {"_parameters", "_buffers", "_modules"}) {
            for (Map.Entry<Object, Object> e : ((PyDict) state.items.get(group)).items.entrySet()) {
                boolean dropped = group.equals("_buffers") && nonPersistent.contains(e.getKey());
                if (e.getValue() != null && !dropped) {
                    out.add(new SimpleImmutableEntry<>(segment(e.getKey()), e.getValue()));
                }
            }
        }
        return out;
    }

    /** A dict key as a path segment, as Python's str() shows it; a record key by its type. */
    private static String segment(Object key) {
        if (key == null) {
            return "None";
        } else if (key instanceof Boolean b) {
            return b ? "True" : "False";
        } else if (key instanceof PyObject || key instanceof Tuple) {
            return "<" + RestrictedUnpickler.typeName(key) + ">";
        }
        return key.toString();
    }
}
