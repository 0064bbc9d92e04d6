package io.sparktensors.format.pytorch;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.DType;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.pytorch.Pickled.ElementType;
import io.sparktensors.format.pytorch.Pickled.Global;
import io.sparktensors.format.pytorch.Pickled.PyDict;
import io.sparktensors.format.pytorch.Pickled.PyList;
import io.sparktensors.format.pytorch.Pickled.PyObject;
import io.sparktensors.format.pytorch.Pickled.Tuple;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code .metadata} file of a {@code torch.distributed.checkpoint} (DCP) folder, as plain values: for
 * each entry of {@code state_dict_metadata}, a tensor ({@code TensorStorageMetadata}: dtype, size, chunks
 * with their offsets and sizes) or a bytes item ({@code BytesStorageMetadata}); and {@code storage_data}, where
 * each chunk is stored ({@code MetadataIndex(fqn, offset) -> _StorageInfo(relative_path, offset, length)}).
 *
 * <p>The pickle (protocol 4 dataclasses) is run by the {@link RestrictedUnpickler} in its symbolic mode:
 * nothing is imported or called; the dataclasses are records read here by fixed field names. Only the
 * shape of the records is checked here; that chunks fit their tensor and their files is the reader's job.
 */
public final class DcpMetadata {
    private static final String PACKAGE = "torch.distributed.checkpoint.metadata.";
    private static final String STORAGE_INFO = "torch.distributed.checkpoint.filesystem._StorageInfo";

    /** Where one chunk lies in the tensor: its first index and its extent along every dimension. */
    public record Chunk(long[] offsets, long[] sizes) {
        public Chunk {
            offsets = offsets.clone();
            sizes = sizes.clone();
        }

        @Override
        public long[] offsets() {
            return offsets.clone();
        }

        @Override
        public long[] sizes() {
            return sizes.clone();
        }

        @Override
        public String toString() {
            return "at " + Arrays.toString(offsets) + " of size " + Arrays.toString(sizes);
        }
    }

    /**
     * Where a chunk's bytes lie: a {@code torch.save} archive at {@code [offset, offset + length)} of a file of
     * the folder.
     *
     * @param transforms the names of the transforms applied to the bytes (compression), empty for none
     */
    public record Storage(String relativePath, long offset, long length, List<String> transforms) {
        public Storage {
            transforms = List.copyOf(transforms);
        }
    }

    /**
     * A tensor entry.
     *
     * @param dtype its dtype, or null when it has none in safetensors ({@code unsupported} says why)
     */
    public record TensorItem(String fqn, DType dtype, String unsupported, long[] size, List<Chunk> chunks) {
        public TensorItem {
            size = size.clone();
            chunks = List.copyOf(chunks);
        }

        @Override
        public long[] size() {
            return size.clone();
        }
    }

    private final List<TensorItem> tensors;
    private final List<String> bytesItems;
    private final Map<String, Storage> storages;

    private DcpMetadata(List<TensorItem> tensors, List<String> bytesItems, Map<String, Storage> storages) {
        this.tensors = List.copyOf(tensors);
        this.bytesItems = List.copyOf(bytesItems);
        this.storages = Map.copyOf(storages);
    }

    /** The tensor entries, in the order of {@code state_dict_metadata}. */
    public List<TensorItem> tensors() {
        return tensors;
    }

    /** The names of the bytes items (non-tensor values DCP pickled). */
    public List<String> bytesItems() {
        return bytesItems;
    }

    /** Where the chunk of {@code fqn} starting at {@code offsets} is stored, or null when nowhere. */
    public Storage storage(String fqn, long[] offsets) {
        return storages.get(key(fqn, offsets));
    }

    private static String key(String fqn, long[] offsets) {
        return fqn + '\0' + Arrays.toString(offsets);
    }

    /**
     * Reads a {@code .metadata} pickle.
     *
     * @param location the {@code .metadata} file, for messages
     * @throws MalformedTensorFileException when it is not DCP metadata, naming the entry and the fault
     */
    public static DcpMetadata parse(String location, byte[] pickle, ReadLimits limits) throws IOException {
        Object root = RestrictedUnpickler.load(PickleInput.of(location, pickle), limits, null, true);
        Parser p = new Parser(location, limits);
        PyObject metadata = p.record(root, PACKAGE + "Metadata", null, "the root");
        PyDict items = p.dict(p.field(metadata, "state_dict_metadata", null), null, "state_dict_metadata");
        if (items.items.size() > limits.maxTensors()) {
            throw p.fault(
                    null,
                    "it has " + items.items.size() + " entries, more than maxTensors (" + limits.maxTensors()
                            + "). Raise maxTensors to read it.");
        }
        List<TensorItem> tensors = new ArrayList<>();
        List<String> bytesItems = new ArrayList<>();
        for (Map.Entry<Object, Object> e : items.items.entrySet()) {
            if (!(e.getKey() instanceof String fqn)) {
                throw p.fault(null, "a state_dict_metadata key is not a string");
            }
            if (e.getValue() instanceof PyObject o && o.type.equals(PACKAGE + "BytesStorageMetadata")) {
                bytesItems.add(fqn);
            } else {
                tensors.add(p.tensor(fqn, p.record(e.getValue(), PACKAGE + "TensorStorageMetadata", fqn, "its entry")));
            }
        }
        PyDict storageData = p.dict(p.field(metadata, "storage_data", null), null, "storage_data");
        Map<String, Storage> storages = new HashMap<>();
        for (Map.Entry<Object, Object> e : storageData.items.entrySet()) {
            PyObject index = p.record(e.getKey(), PACKAGE + "MetadataIndex", null, "a storage_data key");
            String fqn = p.string(p.field(index, "fqn", null), null, "MetadataIndex.fqn");
            Object offset = p.field(index, "offset", fqn);
            if (offset == null) {
                continue; // bytes items are indexed without an offset
            }
            long[] offsets = p.longs(offset, fqn, "MetadataIndex.offset");
            PyObject info = p.record(e.getValue(), STORAGE_INFO, fqn, "its storage_data value");
            Storage s = new Storage(
                    p.string(p.field(info, "relative_path", fqn), fqn, "_StorageInfo.relative_path"),
                    p.count(p.field(info, "offset", fqn), fqn, "_StorageInfo.offset"),
                    p.count(p.field(info, "length", fqn), fqn, "_StorageInfo.length"),
                    p.transforms(p.field(info, "transform_descriptors", fqn), fqn));
            if (storages.put(key(fqn, offsets), s) != null) {
                throw p.fault(fqn, "storage_data lists the chunk at " + Arrays.toString(offsets) + " twice");
            }
        }
        return new DcpMetadata(tensors, bytesItems, storages);
    }

    /** Reads the records by fixed field names, naming the file and the entry in every fault. */
    private record Parser(String location, ReadLimits limits) {
        MalformedTensorFileException fault(String tensor, String why) {
            return new MalformedTensorFileException(location, tensor, "its DCP metadata is malformed: " + why);
        }

        PyObject record(Object o, String type, String tensor, String what) throws MalformedTensorFileException {
            if (o instanceof PyObject r && r.type.equals(type)) {
                return r;
            }
            throw fault(
                    tensor,
                    what + " is " + describe(o) + ", not " + type
                            + (tensor == null && what.equals("the root")
                                    ? " (is this a DCP checkpoint's .metadata?)"
                                    : ""));
        }

        /**
         * A field of a dataclass's BUILD state: a dict, or (dict or None, slots dict) for a dataclass with
         * slots; null when absent.
         */
        Object field(PyObject o, String name, String tensor) throws MalformedTensorFileException {
            if (o.state instanceof PyDict d) {
                return d.items.get(name);
            }
            if (o.state instanceof Tuple t) {
                for (Object part : t.items) {
                    if (part instanceof PyDict d && d.items.containsKey(name)) {
                        return d.items.get(name);
                    }
                }
                return null;
            }
            throw fault(tensor, o.type + " has no fields");
        }

        PyDict dict(Object o, String tensor, String what) throws MalformedTensorFileException {
            if (o instanceof PyDict d) {
                return d;
            }
            throw fault(tensor, what + " is " + describe(o) + ", not a dict");
        }

        String string(Object o, String tensor, String what) throws MalformedTensorFileException {
            if (o instanceof String s) {
                return s;
            }
            throw fault(tensor, what + " is " + describe(o) + ", not a string");
        }

        long count(Object o, String tensor, String what) throws MalformedTensorFileException {
            if (o instanceof Long l && l >= 0) {
                return l;
            }
            throw fault(tensor, what + " is " + describe(o) + ", not a count (an integer from 0 to 2^63-1)");
        }

        long[] longs(Object o, String tensor, String what) throws MalformedTensorFileException {
            if (!(o instanceof Tuple t)) {
                throw fault(tensor, what + " is " + describe(o) + ", not a torch.Size");
            }
            if (t.items.size() > PyTorchReader.MAX_RANK) {
                throw fault(
                        tensor, what + " has " + t.items.size() + " dimensions, more than " + PyTorchReader.MAX_RANK);
            }
            long[] out = new long[t.items.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = count(t.items.get(i), tensor, what + "[" + i + "]");
            }
            return out;
        }

        List<String> transforms(Object o, String tensor) throws MalformedTensorFileException {
            if (o == null) {
                return List.of();
            }
            if (!(o instanceof PyList l)) {
                throw fault(tensor, "_StorageInfo.transform_descriptors is " + describe(o) + ", not a list");
            }
            List<String> out = new ArrayList<>();
            for (Object item : l.items) {
                out.add(item instanceof String s ? MalformedTensorFileException.printable(s) : describe(item));
            }
            return out;
        }

        TensorItem tensor(String fqn, PyObject md) throws MalformedTensorFileException {
            long[] size = longs(field(md, "size", fqn), fqn, "its size");
            PyObject properties =
                    record(field(md, "properties", fqn), PACKAGE + "TensorProperties", fqn, "its properties");
            // TensorProperties pickles (dtype, layout, requires_grad, memory_format, pin_memory); older torch a dict.
            Object dtype = properties.state instanceof Tuple t && !t.items.isEmpty()
                    ? t.items.get(0)
                    : field(properties, "dtype", fqn);
            if (!(dtype instanceof Global g && g.meaning() instanceof ElementType type)) {
                throw fault(fqn, "its dtype is " + describe(dtype) + ", not a torch dtype");
            }
            if (!(field(md, "chunks", fqn) instanceof PyList list)) {
                throw fault(fqn, "its chunks are not a list");
            }
            List<Chunk> chunks = new ArrayList<>();
            for (Object c : list.items) {
                PyObject chunk = record(c, PACKAGE + "ChunkStorageMetadata", fqn, "a chunk");
                chunks.add(new Chunk(
                        longs(field(chunk, "offsets", fqn), fqn, "a chunk's offsets"),
                        longs(field(chunk, "sizes", fqn), fqn, "a chunk's sizes")));
            }
            String unsupported = type.dtype() == null
                    ? (type.unsupported() != null ? type.unsupported() : type.torchName() + " is not a tensor dtype")
                    : null;
            return new TensorItem(fqn, type.dtype(), unsupported, size, chunks);
        }

        private static String describe(Object o) {
            if (o == null) {
                return "None";
            }
            if (o instanceof PyObject r) {
                return "a " + MalformedTensorFileException.printable(r.type);
            }
            if (o instanceof Global g) {
                return MalformedTensorFileException.printable(g.qualifiedName());
            }
            return "a " + o.getClass().getSimpleName();
        }
    }
}
