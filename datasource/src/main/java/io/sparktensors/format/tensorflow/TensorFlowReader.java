package io.sparktensors.format.tensorflow;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.DType;
import io.sparktensors.format.FormatReader;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorData;
import io.sparktensors.format.TensorListing;
import io.sparktensors.format.proto.ByteSource;
import io.sparktensors.format.proto.ProtoReader;
import io.sparktensors.io.FolderFiles;
import io.sparktensors.io.InputFile;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lists a TensorFlow tensor bundle: a TF2 checkpoint ({@code ckpt-1.index}) or a SavedModel's variables
 * ({@code variables/variables.index}). The input file is the bundle's index, a {@link TableReader table}
 * whose empty key holds the {@code BundleHeaderProto} and whose other keys hold one
 * {@code BundleEntryProto} each. Tensor bytes live in the data shards beside it,
 * {@code <prefix>.data-00000-of-0000N}, where the prefix is the index's name without {@code .index}.
 *
 * <p>Each tensor is its plain range of a shard, read through a {@link BundleTensorDecoder} that verifies
 * the entry's checksum when the tensor is read whole and byte-swaps big-endian bundles.
 *
 * <p>Names are the full names the object graph ({@value ObjectGraph#KEY}) gives the variables; keys it
 * does not name lose their {@value #VARIABLE_SUFFIX} suffix. Skipped and reported, never listed: the
 * object graph itself, the {@code save_counter} of {@code tf.train.Checkpoint} (a count of saves, not a
 * weight), string tensors, dtypes without a safetensors equivalent (resource, variant, complex128,
 * quantized and 4-bit types), and partitioned variables saved in slices.
 *
 * <p>Metadata: {@code tensorflow.num_shards}, {@code tensorflow.endianness} ({@code little} or {@code big})
 * and {@code tensorflow.names} ({@code object_graph} or {@code checkpoint_keys}).
 */
public final class TensorFlowReader implements FormatReader {
    /** The format's short name. */
    public static final String NAME = "tensorflow";
    /** The suffix TF2 checkpoint keys give a variable's value. */
    static final String VARIABLE_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE";
    /** The key of the counter {@code tf.train.Checkpoint} keeps of its saves. */
    static final String SAVE_COUNTER_KEY = "save_counter" + VARIABLE_SUFFIX;

    static final String INDEX_SUFFIX = ".index";
    /** Appended to protobuf wire-format faults. */
    private static final String ADVICE = "The checkpoint is corrupt or was not written by TensorFlow.";

    public TensorFlowReader() {}

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public TensorListing list(InputFile file, FolderFiles folder, ReadLimits limits) throws IOException {
        String location = file.location();
        String prefix = bundlePrefix(location);
        byte[] table = readIndex(file, limits);
        // The header entry is not a tensor.
        List<TableReader.Entry> entries =
                TableReader.read(location, table, limits.maxTensors() + 1L, limits.maxHeaderBytes());
        if (entries.isEmpty() || entries.get(0).key().length != 0) {
            throw new MalformedTensorFileException(
                    location,
                    null,
                    "the table has no bundle header (the entry with "
                            + "the empty key). It is not a TensorFlow checkpoint index.");
        }
        BundleHeader header =
                BundleHeader.parse(proto(location, null, "BundleHeaderProto", table, entries.get(0), limits));
        Listing listing = new Listing(location, prefix, header, folder, limits);
        Map<String, BundleEntry> bundle = new LinkedHashMap<>();
        for (TableReader.Entry entry : entries.subList(1, entries.size())) {
            if (entry.key()[0] == 0) {
                // Keys of the slices of a partitioned variable are binary, starting with a 0 byte.
                String slice = new String(entry.key(), StandardCharsets.ISO_8859_1);
                listing.skipped.add(MalformedTensorFileException.printable(slice)
                        + ": one slice of a partitioned variable; sliced variables are not supported");
                continue;
            }
            String key = ProtoReader.utf8(entry.key());
            if (key == null) {
                throw new MalformedTensorFileException(
                        location, null, "a key is not valid UTF-8 text. The index is " + "corrupt.");
            }
            bundle.put(key, BundleEntry.parse(proto(location, key, "BundleEntryProto", table, entry, limits)));
        }
        BundleEntry graph = bundle.remove(ObjectGraph.KEY);
        Map<String, String> names = graph == null ? Map.of() : listing.objectGraph(graph);
        // Object-graph names where they are unique; variables that share a full name (two modules each with a
        // tf.Variable named "w") are named by their checkpoint keys, which always are.
        Map<String, Integer> uses = new HashMap<>();
        names.forEach((key, name) -> {
            if (bundle.containsKey(key)) {
                uses.merge(name, 1, Integer::sum);
            }
        });
        for (Map.Entry<String, BundleEntry> e : bundle.entrySet()) {
            String key = e.getKey();
            String byKey =
                    key.endsWith(VARIABLE_SUFFIX) ? key.substring(0, key.length() - VARIABLE_SUFFIX.length()) : key;
            String graphName = names.get(key);
            String name = graphName != null && uses.get(graphName) == 1 ? graphName : byKey;
            listing.add(key, name, e.getValue());
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("tensorflow.num_shards", Integer.toString(header.numShards()));
        metadata.put("tensorflow.endianness", header.bigEndian() ? "big" : "little");
        metadata.put("tensorflow.names", graph == null ? "checkpoint_keys" : "object_graph");
        return new TensorListing(location, listing.tensors, metadata, listing.skipped);
    }

    /** The bundle prefix (the index's file name without {@code .index}) that names its data shards. */
    private static String bundlePrefix(String location) throws MalformedTensorFileException {
        String name = location.substring(Math.max(location.lastIndexOf('/'), location.lastIndexOf('\\')) + 1);
        if (!name.endsWith(INDEX_SUFFIX) || name.length() == INDEX_SUFFIX.length()) {
            throw new MalformedTensorFileException(
                    location,
                    null,
                    "a TensorFlow bundle is read from its index, "
                            + "<prefix>.index, beside its data shards <prefix>.data-00000-of-0000N; this file's name does not "
                            + "end in .index. Read the .index file of the checkpoint.");
        }
        return name.substring(0, name.length() - INDEX_SUFFIX.length());
    }

    private static byte[] readIndex(InputFile file, ReadLimits limits) throws IOException {
        long length = file.length();
        if (length > limits.maxHeaderBytes() || length > Integer.MAX_VALUE - 8) {
            throw new MalformedTensorFileException(
                    file.location(),
                    null,
                    "the index has " + length
                            + " bytes, more than the limit of " + limits.maxHeaderBytes()
                            + ". If the file is trusted, raise the read option maxHeaderBytes.");
        }
        byte[] table = new byte[(int) length];
        try (SeekableInput in = file.open(ReadPolicy.RANDOM)) {
            in.readFully(0, table, 0, table.length);
        } catch (EOFException e) {
            throw new MalformedTensorFileException(
                    file.location(), null, "the index ended while it was read: " + e.getMessage(), e);
        }
        return table;
    }

    private static ProtoReader proto(
            String location, String key, String message, byte[] table, TableReader.Entry entry, ReadLimits limits) {
        return proto(location, key, message, table, entry.valueOffset(), entry.valueLength(), limits.maxNesting());
    }

    /**
     * A reader of the message {@code buf[offset, offset + length)}, held in memory.
     *
     * @param key the tensor the message describes, for error messages, or null
     * @param message the message type, for error messages
     */
    static ProtoReader proto(
            String location, String key, String message, byte[] buf, int offset, int length, int maxNesting) {
        return new ProtoReader(
                ByteSource.of(location, buf, offset, length),
                location,
                key,
                message,
                (long) offset + length,
                maxNesting,
                ADVICE);
    }

    /** The tensors of one bundle as they are found; driver-only. */
    private static final class Listing {
        private final String location;
        private final String prefix;
        private final BundleHeader header;
        private final FolderFiles folder;
        private final ReadLimits limits;
        private final Map<Long, Shard> shards = new HashMap<>();
        private final Map<String, String> keysByName = new HashMap<>();
        final List<StoredTensor> tensors = new ArrayList<>();
        final List<String> skipped = new ArrayList<>();

        Listing(String location, String prefix, BundleHeader header, FolderFiles folder, ReadLimits limits) {
            this.location = location;
            this.prefix = prefix;
            this.header = header;
            this.folder = folder;
            this.limits = limits;
        }

        /** Lists the entry under {@code name}, or reports why it is skipped. */
        void add(String key, String name, BundleEntry entry) throws IOException {
            DType dtype = TensorFlowDTypes.safetensors(entry.dtype());
            if (key.equals(SAVE_COUNTER_KEY)) {
                skipped.add(name + ": the count of saves tf.train.Checkpoint keeps, not a model weight");
            } else if (entry.slices() > 0) {
                skipped.add(name + ": a partitioned variable saved in " + entry.slices()
                        + " slices; sliced variables are not supported");
            } else if (dtype == null) {
                boolean strings = entry.dtype() == TensorFlowDTypes.DT_STRING;
                skipped.add(name + ": " + TensorFlowDTypes.name(entry.dtype())
                        + (strings ? " holds strings, not numbers" : " has no safetensors dtype"));
            } else {
                String previous = keysByName.putIfAbsent(name, key);
                if (previous != null) {
                    throw new MalformedTensorFileException(
                            location,
                            name,
                            "the checkpoint keys '"
                                    + MalformedTensorFileException.printable(previous) + "' and '"
                                    + MalformedTensorFileException.printable(key)
                                    + "' both give this name; tensor names must be "
                                    + "unique. Give the variables distinct names and save the checkpoint again.");
                }
                tensors.add(tensor(name, dtype, entry));
            }
        }

        private StoredTensor tensor(String name, DType dtype, BundleEntry entry) throws IOException {
            long[] shape = entry.shape();
            long bytes;
            try {
                long elements = 1;
                for (long d : shape) {
                    elements = Math.multiplyExact(elements, d);
                }
                bytes = dtype.byteSize(elements);
            } catch (ArithmeticException e) {
                throw fault(name, "the shape " + Arrays.toString(shape) + " overflows 64 bits");
            }
            if (bytes != entry.size()) {
                throw fault(
                        name,
                        "the shape " + Arrays.toString(shape) + " of " + TensorFlowDTypes.name(entry.dtype())
                                + " needs " + bytes + " bytes but the entry's size is " + entry.size());
            }
            Shard shard = dataRange(name, entry);
            long rows = shape.length == 0 ? 1 : shape[0];
            int swapWidth = header.bigEndian() ? TensorFlowDTypes.swapWidth(dtype) : 1;
            BundleTensorDecoder decoder = new BundleTensorDecoder(
                    shard.location(), name, entry.offset(), entry.size(), rows, swapWidth, entry.maskedCrc32c());
            return new StoredTensor(
                    name,
                    dtype,
                    shape,
                    new TensorData(shard.location(), shard.length(), entry.offset(), entry.size(), decoder));
        }

        /** Reads the object graph's names; the entry is checked like any tensor before it is read. */
        Map<String, String> objectGraph(BundleEntry entry) throws IOException {
            skipped.add(ObjectGraph.KEY + ": the object graph that names the variables, not a weight");
            if (entry.dtype() != TensorFlowDTypes.DT_STRING || entry.shape().length != 0 || entry.slices() > 0) {
                throw fault(ObjectGraph.KEY, "the object graph is not a string scalar; the checkpoint is corrupt");
            }
            if (entry.size() > limits.maxHeaderBytes() || entry.size() > Integer.MAX_VALUE - 8) {
                throw fault(
                        ObjectGraph.KEY,
                        "the object graph has " + entry.size() + " bytes, more than the limit of "
                                + limits.maxHeaderBytes()
                                + ". If the file is trusted, raise the read option maxHeaderBytes.");
            }
            Shard shard = dataRange(ObjectGraph.KEY, entry);
            byte[] bytes = new byte[(int) entry.size()];
            try (SeekableInput in = shard.file().open(ReadPolicy.RANDOM)) {
                in.readFully(entry.offset(), bytes, 0, bytes.length);
            } catch (EOFException e) {
                throw new MalformedTensorFileException(
                        shard.location(),
                        ObjectGraph.KEY,
                        "the data shard ended while " + "the object graph was read: " + e.getMessage(),
                        e);
            }
            return ObjectGraph.fullNames(
                    shard.location(), bytes, entry.maskedCrc32c(), header.bigEndian(), limits.maxNesting());
        }

        /** The shard holding the entry's bytes, checked to hold all of them. */
        private Shard dataRange(String name, BundleEntry entry) throws IOException {
            if (entry.shardId() < 0 || entry.shardId() >= header.numShards()) {
                throw fault(
                        name,
                        "the entry's shard_id is " + entry.shardId() + " but the bundle has " + header.numShards()
                                + " data shards");
            }
            Shard shard = shard(entry.shardId());
            if (entry.offset() > shard.length() - entry.size()) {
                throw fault(
                        name,
                        "the tensor's bytes [" + entry.offset() + ", +" + entry.size() + ") lie beyond the end "
                                + "of the data shard " + shard.location() + " (" + shard.length()
                                + " bytes). The shard is truncated "
                                + "or belongs to another checkpoint.");
            }
            return shard;
        }

        private Shard shard(long id) throws IOException {
            Shard shard = shards.get(id);
            if (shard == null) {
                String name = String.format("%s.data-%05d-of-%05d", prefix, id, header.numShards());
                InputFile file = folder.resolve(location, name);
                shard = new Shard(file.location(), file.length(), file);
                shards.put(id, shard);
            }
            return shard;
        }

        private MalformedTensorFileException fault(String tensor, String what) {
            return new MalformedTensorFileException(location, tensor, what);
        }
    }

    /** A data shard and its length when listed. */
    private record Shard(String location, long length, InputFile file) {}
}
