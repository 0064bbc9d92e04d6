package io.sparktensors.format.keras;

import io.jhdf.Constants;
import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Link;
import io.jhdf.api.Node;
import io.jhdf.api.dataset.ChunkedDataset;
import io.jhdf.api.dataset.ContiguousDataset;
import io.jhdf.links.ExternalLink;
import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.FormatReader;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorData;
import io.sparktensors.format.TensorListing;
import io.sparktensors.format.zip.ZipDirectory;
import io.sparktensors.format.zip.ZipMember;
import io.sparktensors.io.FolderFiles;
import io.sparktensors.io.InputFile;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Lists the weights of a Keras HDF5 file, read with jHDF through positioned reads (the file need not be on
 * local disk). The layout decides the tensor names:
 *
 * <ul>
 *   <li><b>{@code legacy-h5-model}</b> ({@code model.save("m.h5")}: a {@code model_weights} group) and
 *       <b>{@code legacy-h5-weights}</b> ({@code model.save_weights("w.h5")}: a {@code layer_names} attribute
 *       on the root): the layers of {@code layer_names} in order, in each the weights its {@code weight_names}
 *       attribute lists, each named by that entry without a {@code :0} suffix ({@code dense_1/kernel:0} becomes
 *       {@code dense_1/kernel}; Keras 3 writes {@code sequential/dense_a/kernel}). A name taken already falls
 *       back to {@code <layer>/<weight name>}. Other datasets (optimizer state, datasets no
 *       {@code weight_names} lists) are skipped and reported.
 *   <li><b>{@code keras3-weights}</b> (Keras 3 {@code .weights.h5}, alone or inside a {@code .keras} zip:
 *       groups {@code layers} and {@code vars}) and <b>{@code hdf5}</b> (any other HDF5 file): every dataset,
 *       named by its HDF5 path without the leading slash, e.g. {@code layers/dense/vars/0}. That path is the
 *       key Keras 3 itself loads by; the file does not record variable names such as {@code kernel}.
 * </ul>
 *
 * <p>Contiguous datasets are plain byte ranges (big-endian ones a splittable byte-swapping decoder);
 * chunked, compressed and compact datasets get a decoder that re-reads them whole with jHDF, up to
 * {@link #MAX_ASSEMBLED_BYTES}. Element types: IEEE float16/32/64, integers of 1 to 8 bytes and h5py's
 * boolean enum; others are skipped and reported. Links are never followed (soft and external links are
 * skipped and reported); HDF5 external storage is refused. Model configs are never read.
 *
 * <p>Metadata: {@code keras.layout} (one of the layouts above) and, when the file records them,
 * {@code keras.keras_version} and {@code keras.backend}.
 */
public final class KerasReader implements FormatReader {
    /** The format's short name. */
    public static final String NAME = "keras";
    /**
     * Largest chunked or compact dataset: jHDF assembles one in a single byte array, which Java bounds at a
     * little under 2 GiB.
     */
    public static final long MAX_ASSEMBLED_BYTES = Integer.MAX_VALUE - 8;
    /** A chunk may exceed its dataset by this much (h5py pads small datasets' chunks). */
    private static final long MIN_CHUNK_SLACK_BYTES = 1 << 20;

    /** The weights member of a Keras 3 {@code .keras} archive. */
    public static final String ARCHIVE_WEIGHTS = "model.weights.h5";

    private static final String MODEL_WEIGHTS = "model_weights";
    private static final String LAYER_NAMES = "layer_names";
    private static final String WEIGHT_NAMES = "weight_names";

    @Override
    public int recognitionBytes() {
        return 8;
    }

    /** The HDF5 signature (Keras 2 and 3 weights files); a {@code .keras} archive is told by its name. */
    @Override
    public boolean recognizes(byte[] start) {
        return HdfStorage.hasSignature(start);
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * Lists an HDF5 file, or a Keras 3 {@code .keras} zip archive through its {@value #ARCHIVE_WEIGHTS}
     * member (which Keras stores uncompressed, so its tensors are byte ranges of the archive).
     */
    @Override
    public TensorListing list(InputFile file, FolderFiles folder, ReadLimits limits) throws IOException {
        long fileLength = file.length();
        byte[] start = new byte[(int) Math.min(4, fileLength)];
        ZipMember weights = null;
        try (SeekableInput in = file.open(ReadPolicy.RANDOM)) {
            in.readFully(0, start, 0, start.length);
            if (ZipDirectory.looksLikeZip(start)) {
                ZipDirectory zip = ZipDirectory.read(file.location(), in, fileLength, limits);
                weights = zip.member(ARCHIVE_WEIGHTS);
                if (weights == null || !weights.isStored()) {
                    throw new MalformedTensorFileException(
                            file.location(),
                            null,
                            weights == null
                                    ? "this zip archive holds no " + ARCHIVE_WEIGHTS
                                            + "; it is not a Keras 3 .keras file"
                                    : "its " + ARCHIVE_WEIGHTS
                                            + " is compressed; Keras stores it uncompressed. Extract it and read "
                                            + "the .weights.h5 file.");
                }
            }
        } catch (java.io.EOFException e) {
            throw new MalformedTensorFileException(
                    file.location(), null, "the file is truncated: " + e.getMessage(), e);
        }
        return weights == null
                ? list(file, 0, fileLength, limits)
                : list(file, weights.dataOffset(), weights.uncompressedSize(), limits);
    }

    /**
     * Lists the HDF5 file stored in bytes {@code [start, start + length)} of {@code file}, such as the
     * {@code model.weights.h5} member of a {@code .keras} zip (it must be stored uncompressed). Tensor data
     * locations name {@code file}, with offsets in {@code file}.
     *
     * @throws MalformedTensorFileException when the range lies outside the file, or for anything
     *     {@link #list(InputFile, FolderFiles, ReadLimits)} refuses
     */
    public TensorListing list(InputFile file, long start, long length, ReadLimits limits) throws IOException {
        String location = file.location();
        long fileLength = file.length();
        if (start < 0 || length < 0 || start > fileLength - length) {
            throw new MalformedTensorFileException(
                    location,
                    null,
                    "the embedded HDF5 file at offset " + start
                            + " with " + length + " bytes lies beyond the end of the file (" + fileLength
                            + " bytes). The "
                            + "archive is truncated or corrupt.");
        }
        Listing listing = new Listing(location, fileLength, start, length, limits);
        try (SeekableInput in = file.open(ReadPolicy.RANDOM)) {
            return listing.run(HdfStorage.open(in, location, start, length, limits.maxHeaderBytes()));
        } catch (RuntimeException | StackOverflowError e) {
            throw HdfStorage.unwrap(e, location, listing.at);
        }
    }

    /** One listing: the walk of the HDF5 tree, then the naming rule of its layout. Driver-only. */
    private static final class Listing {
        private final String location;
        private final long fileLength;
        private final long start;
        private final long length;
        private final ReadLimits limits;
        private long baseAddress;
        /** Every dataset and group reached without following a link, by path without the leading slash. */
        private final Map<String, Dataset> datasets = new LinkedHashMap<>();

        private final Map<String, Group> groups = new HashMap<>();
        private final Set<String> links = new HashSet<>();
        private final Map<Long, String> pathByAddress = new HashMap<>();
        private final List<StoredTensor> tensors = new ArrayList<>();
        private final Set<String> names = new HashSet<>();
        private final List<String> skipped = new ArrayList<>();
        private final Map<String, String> metadata = new LinkedHashMap<>();
        /** The HDF5 path being read, for error messages. */
        private String at;

        Listing(String location, long fileLength, long start, long length, ReadLimits limits) {
            this.location = location;
            this.fileLength = fileLength;
            this.start = start;
            this.length = length;
            this.limits = limits;
        }

        TensorListing run(HdfFile hdf) throws IOException {
            baseAddress = hdf.getUserBlockSize();
            walk(hdf, "", 1);
            at = null;
            Group weights = legacyWeights(hdf);
            if (weights != null) {
                metadata.put("keras.layout", weights == hdf ? "legacy-h5-weights" : "legacy-h5-model");
                putStringAttribute(weights, "keras_version");
                putStringAttribute(weights, "backend");
                listLegacy(weights, weights == hdf ? "" : MODEL_WEIGHTS + "/");
            } else {
                boolean keras3 = groups.containsKey("layers") || groups.containsKey("vars");
                metadata.put("keras.layout", keras3 ? "keras3-weights" : "hdf5");
                datasets.forEach((path, d) -> addTensor(path, path, d));
            }
            return new TensorListing(location, tensors, metadata, skipped);
        }

        private void walk(Group group, String prefix, int depth) throws MalformedTensorFileException {
            if (depth > limits.maxNesting()) {
                throw new MalformedTensorFileException(
                        location,
                        prefix,
                        "HDF5 groups nest deeper than maxNesting (" + limits.maxNesting()
                                + "). The file is hostile or unusual; if it is trusted, raise maxNesting.");
            }
            for (Map.Entry<String, Node> e : group.getChildren().entrySet()) {
                String path = prefix + e.getKey();
                at = path;
                Node node = e.getValue();
                if (node instanceof Link link) {
                    links.add(path);
                    skipped.add(path + ": " + describe(link) + ", not followed");
                    continue;
                }
                String same = pathByAddress.putIfAbsent(node.getAddress(), path);
                if (same != null) {
                    skipped.add(path + ": another name (hard link) for '" + same + "', listed once");
                } else if (node instanceof Group child) {
                    groups.put(path, child);
                    walk(child, path + "/", depth + 1);
                } else if (node instanceof Dataset d) {
                    if (datasets.size() >= limits.maxTensors()) {
                        throw new MalformedTensorFileException(
                                location,
                                null,
                                "the file has more than maxTensors (" + limits.maxTensors()
                                        + ") datasets. If it is trusted, raise maxTensors.");
                    }
                    datasets.put(path, d);
                }
            }
        }

        private static String describe(Link link) {
            String target = MalformedTensorFileException.printable(link.getTargetPath());
            return link instanceof ExternalLink
                    ? "an external link to '" + target + "' in another file"
                    : "a soft link to '" + target + "'";
        }

        /** The group holding the layer groups of a legacy (Keras 2 style) file, or null for other layouts. */
        private Group legacyWeights(HdfFile hdf) {
            if (hasListAttribute(hdf, LAYER_NAMES)) {
                return hdf;
            }
            Group modelWeights = groups.get(MODEL_WEIGHTS);
            return modelWeights != null && hasListAttribute(modelWeights, LAYER_NAMES) ? modelWeights : null;
        }

        private void listLegacy(Group weights, String prefix) throws MalformedTensorFileException {
            Set<String> listed = new HashSet<>();
            long visited = 0;
            // Each layer once, however often layer_names repeats it; every weight name visited counts against the
            // tensor limit, so hostile name lists cannot make listing quadratic.
            for (String layer : new java.util.LinkedHashSet<>(stringList(weights, LAYER_NAMES))) {
                Group group = groups.get(prefix + layer);
                if (group == null) {
                    if (!links.contains(prefix + layer)) {
                        throw new MalformedTensorFileException(
                                location,
                                null,
                                "layer_names lists the layer '"
                                        + MalformedTensorFileException.printable(layer)
                                        + "' but the file has no group '" + prefix
                                        + MalformedTensorFileException.printable(layer) + "'. The file is corrupt.");
                    }
                    continue;
                }
                for (String weight : stringList(group, WEIGHT_NAMES)) {
                    if (++visited > limits.maxTensors()) {
                        throw new MalformedTensorFileException(
                                location,
                                null,
                                "its weight_names list more than " + limits.maxTensors()
                                        + " weights. If the file is trusted, raise the read option maxTensors.");
                    }
                    String path = prefix + layer + "/" + weight;
                    Dataset d = datasets.get(path);
                    if (d == null) {
                        if (!links.contains(path)) {
                            throw new MalformedTensorFileException(
                                    location,
                                    path,
                                    "the weight_names of layer '"
                                            + MalformedTensorFileException.printable(layer)
                                            + "' list it but the file has no such "
                                            + "dataset. The file is corrupt.");
                        }
                        continue;
                    }
                    if (!listed.add(path)) {
                        continue; // listed twice in weight_names: one tensor
                    }
                    String name = stripZero(weight);
                    addTensor(names.contains(name) ? layer + "/" + name : name, path, d);
                }
            }
            datasets.keySet().stream()
                    .filter(p -> !listed.contains(p))
                    .forEach(p -> skipped.add(p + ": "
                            + (p.startsWith(prefix)
                                    ? "no weight_names attribute lists it"
                                    : "outside the model weights (optimizer " + "state or other data)")
                            + ", not a model weight"));
        }

        private static String stripZero(String weight) {
            return weight.endsWith(":0") ? weight.substring(0, weight.length() - 2) : weight;
        }

        private void addTensor(String name, String path, Dataset d) {
            at = path;
            HdfTypes.Element element = HdfTypes.of(d.getDataType());
            if (element == null) {
                skipped.add(path + ": its element type, " + HdfTypes.describe(d.getDataType())
                        + ", is not a number or boolean");
                return;
            }
            if (d.isScalar() && d.isEmpty()) {
                skipped.add(path + ": it has no data (an HDF5 null dataspace)");
                return;
            }
            if (!names.add(name)) {
                throw fault(
                        path,
                        "its tensor name '" + MalformedTensorFileException.printable(name)
                                + "' is taken by another weight. The file is corrupt.");
            }
            long[] shape = d.getDimensionsAsLong();
            long bytes = byteSize(path, shape, element);
            long rowBytes = shape.length == 0 ? bytes : shape[0] == 0 ? 0 : bytes / shape[0];
            tensors.add(new StoredTensor(name, element.dtype(), shape, data(name, path, d, element, bytes, rowBytes)));
        }

        private long byteSize(String path, long[] shape, HdfTypes.Element element) {
            try {
                long n = element.size();
                for (long dim : shape) {
                    if (dim < 0) {
                        throw fault(path, "its shape has a negative dimension. The file is corrupt.");
                    }
                    n = Math.multiplyExact(n, dim);
                }
                return n;
            } catch (ArithmeticException e) {
                throw fault(path, "its shape overflows a 64-bit byte count. The file is corrupt.");
            }
        }

        private TensorData data(
                String name, String path, Dataset d, HdfTypes.Element element, long bytes, long rowBytes) {
            if (d instanceof ContiguousDataset c) {
                long address = c.getDataAddress();
                if (address == Constants.UNDEFINED_ADDRESS) {
                    if (bytes != 0) {
                        throw fault(
                                path,
                                "the dataset has no storage in this file (HDF5 external storage, or it was "
                                        + "never written). Re-save the weights into one file.");
                    }
                    return TensorData.plain(location, fileLength, start, 0);
                }
                long raw = address + baseAddress;
                if (address < 0 || raw < 0 || raw > length - bytes) {
                    throw fault(
                            path,
                            "its " + bytes + " bytes at offset " + raw + " lie beyond the end of the file (" + length
                                    + " bytes). The file is truncated or corrupt.");
                }
                long offset = start + raw;
                return element.bigEndian()
                        ? new TensorData(
                                location,
                                fileLength,
                                offset,
                                bytes,
                                new ByteSwapDecoder(location, name, offset, rowBytes, element.size()))
                        : TensorData.plain(location, fileLength, offset, bytes);
            }
            if (bytes > MAX_ASSEMBLED_BYTES) {
                throw fault(
                        path,
                        "the dataset is chunked or compact and holds " + bytes + " bytes; such datasets are "
                                + "read whole, and only up to " + MAX_ASSEMBLED_BYTES
                                + " bytes. Re-save it contiguous and "
                                + "uncompressed (the h5py and Keras default).");
            }
            if (d instanceof ChunkedDataset c) {
                checkChunkShape(path, c.getChunkDimensions(), element.size(), bytes);
            }
            long budget = Math.addExact(limits.maxHeaderBytes(), d.getStorageInBytes());
            HdfDatasetDecoder decoder = new HdfDatasetDecoder(
                    location, name, start, length, path, budget, rowBytes, bytes, element.size(), element.bigEndian());
            // Readers visit a file in offset order: the object header stands in for the scattered chunks.
            long offset = start + Math.min(Math.max(0, d.getAddress() + baseAddress), length);
            return new TensorData(location, fileLength, offset, bytes, decoder);
        }

        /**
         * jHDF allocates per chunk in proportion to the chunk's declared element count, so a chunk may hold no
         * more than the dataset itself (and a little slack for edge chunks): a hostile chunk shape would
         * otherwise allocate without bound before a byte of data is read. (A fuzzing finding.)
         */
        private void checkChunkShape(String path, int[] chunk, int elementSize, long datasetBytes) {
            long elements = 1;
            for (int c : chunk) {
                if (c <= 0) {
                    throw fault(path, "a chunk dimension is " + c + "; chunk dimensions must be positive");
                }
                elements = Math.multiplyExact(elements, (long) c);
                if (elements * elementSize > Math.max(datasetBytes, 0) * 2 + MIN_CHUNK_SLACK_BYTES) {
                    throw fault(
                            path,
                            "its chunks (" + java.util.Arrays.toString(chunk) + " elements) are larger than "
                                    + "the whole dataset of " + datasetBytes + " bytes. The file is corrupt.");
                }
            }
        }

        private boolean hasListAttribute(Node node, String name) {
            Map<String, Attribute> attributes = node.getAttributes();
            return attributes.containsKey(name) || attributes.containsKey(name + "0");
        }

        /**
         * A list-of-strings attribute, which Keras splits into {@code name0}, {@code name1}, ... when it would
         * not fit the 64 KiB HDF5 object header. A missing or empty attribute is an empty list.
         */
        private List<String> stringList(Node node, String name) throws MalformedTensorFileException {
            Map<String, Attribute> attributes = node.getAttributes();
            List<String> out = new ArrayList<>();
            if (attributes.containsKey(name)) {
                addStrings(node, attributes.get(name), out);
            } else {
                for (int i = 0; attributes.containsKey(name + i); i++) {
                    addStrings(node, attributes.get(name + i), out);
                }
            }
            return out;
        }

        private void addStrings(Node node, Attribute attribute, List<String> out) throws MalformedTensorFileException {
            String where = node.getPath() + "@" + attribute.getName();
            if (attribute.getSize() > limits.maxTensors() - out.size()
                    || attribute.getSizeInBytes() > limits.maxHeaderBytes()) {
                throw new MalformedTensorFileException(
                        location,
                        null,
                        "the attribute " + where + " declares "
                                + attribute.getSize()
                                + " names, more than maxTensors or maxHeaderBytes allow. The file is hostile "
                                + "or corrupt; if it is trusted, raise those limits.");
            }
            Object data = attribute.getData();
            if (data instanceof String[] strings) {
                out.addAll(List.of(strings));
            } else if (data instanceof String s) {
                out.add(s);
            } else if (data != null) {
                throw new MalformedTensorFileException(
                        location, null, "the attribute " + where + " is not a list of strings. The file is corrupt.");
            }
        }

        private void putStringAttribute(Node node, String name) {
            Attribute attribute = node.getAttributes().get(name);
            if (attribute != null
                    && attribute.isScalar()
                    && attribute.getSizeInBytes() <= limits.maxHeaderBytes()
                    && attribute.getData() instanceof String s) {
                metadata.put("keras." + name, s);
            }
        }

        private RuntimeException fault(String path, String why) {
            return new HdfStorage.StorageFault(new MalformedTensorFileException(location, path, why));
        }
    }
}
