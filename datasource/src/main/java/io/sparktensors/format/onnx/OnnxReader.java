package io.sparktensors.format.onnx;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.FormatReader;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.StructureInput;
import io.sparktensors.format.TensorData;
import io.sparktensors.format.TensorListing;
import io.sparktensors.format.onnx.OnnxDataType.Storage;
import io.sparktensors.format.onnx.TensorFields.Run;
import io.sparktensors.format.proto.ByteSource;
import io.sparktensors.format.proto.ProtoReader;
import io.sparktensors.io.FolderFiles;
import io.sparktensors.io.InputFile;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Lists the weights of an ONNX model ({@code .onnx}): the graph's initializers and the tensors of its
 * {@code Constant} nodes, including those of subgraphs (If, Loop and Scan bodies). The protobuf is walked
 * with positioned reads and tensor payloads are jumped over, so a model with gigabytes of inline weights
 * costs only its structure in memory (at most {@code maxHeaderBytes}).
 *
 * <p>Values in {@code raw_data}, {@code float_data} and {@code double_data} are listed as plain ranges of the
 * .onnx file; values in external data as plain ranges of the sibling file named by {@code location} (resolved
 * through {@link FolderFiles}, never outside the folder); values in the packed varint fields
 * {@code int32_data}, {@code int64_data} and {@code uint64_data} through a non-splittable decoder.
 *
 * <p>Skipped and reported: STRING, COMPLEX128 and 2- and 4-bit tensors, sparse initializers, Constants given
 * as {@code value_float(s)}, {@code value_int(s)}, {@code value_string(s)} or {@code sparse_value}, tensors
 * whose values are unpacked or split into segments, training graphs and model-local functions. Names must be
 * unique across the model: two tensors of one name are an error, as ONNX requires.
 *
 * <p>Metadata: {@code onnx.ir_version}, {@code onnx.producer_name}, {@code onnx.producer_version},
 * {@code onnx.domain}, {@code onnx.model_version}, {@code onnx.opset_import} (e.g. {@code "ai.onnx:17"}),
 * {@code onnx.graph_name} when present, and the model's {@code metadata_props} under their own keys.
 */
public final class OnnxReader implements FormatReader {
    /** The format's short name. */
    public static final String NAME = "onnx";
    /** numpy's limit on dimensions; no ONNX runtime goes further, and it keeps hostile shapes small. */
    static final int MAX_RANK = 64;

    // Field numbers from onnx.proto.
    private static final int MODEL_IR_VERSION = 1;
    private static final int MODEL_PRODUCER_NAME = 2;
    private static final int MODEL_PRODUCER_VERSION = 3;
    private static final int MODEL_DOMAIN = 4;
    private static final int MODEL_VERSION = 5;
    private static final int MODEL_GRAPH = 7;
    private static final int MODEL_OPSET_IMPORT = 8;
    private static final int MODEL_METADATA_PROPS = 14;
    private static final int MODEL_TRAINING_INFO = 20;
    private static final int MODEL_FUNCTIONS = 25;
    private static final int GRAPH_NODE = 1;
    private static final int GRAPH_NAME = 2;
    private static final int GRAPH_INITIALIZER = 5;
    private static final int GRAPH_SPARSE_INITIALIZER = 15;
    private static final int NODE_OUTPUT = 2;
    private static final int NODE_OP_TYPE = 4;
    private static final int NODE_ATTRIBUTE = 5;
    private static final int NODE_DOMAIN = 7;
    private static final int ATTR_NAME = 1;
    private static final int ATTR_T = 5;
    private static final int ATTR_G = 6;
    private static final int ATTR_GRAPHS = 11;
    private static final int TENSOR_DIMS = 1;
    private static final int TENSOR_DATA_TYPE = 2;
    private static final int TENSOR_SEGMENT = 3;
    private static final int TENSOR_NAME = 8;
    private static final int TENSOR_RAW_DATA = 9;
    private static final int TENSOR_EXTERNAL_DATA = 13;
    private static final int TENSOR_DATA_LOCATION = 14;
    private static final int SPARSE_VALUES = 1;
    private static final int ENTRY_KEY = 1;
    private static final int ENTRY_VALUE = 2;
    private static final int OPSET_DOMAIN = 1;
    private static final int OPSET_VERSION = 2;
    private static final int LOCATION_EXTERNAL = 1;
    /** Appended to wire-format faults. */
    private static final String ADVICE = "The file is corrupt or not an ONNX model.";
    /** Constant attributes that hold a value other than a dense tensor. */
    private static final Set<String> OTHER_CONSTANT_FORMS = Set.of(
            "sparse_value", "value_float", "value_floats", "value_int", "value_ints", "value_string", "value_strings");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public TensorListing list(InputFile file, FolderFiles folder, ReadLimits limits) throws IOException {
        long length = file.length();
        try (SeekableInput in = file.open(ReadPolicy.RANDOM)) {
            ByteSource bytes =
                    ByteSource.streaming(new StructureInput(in, file.location(), length, limits.maxHeaderBytes()));
            Walk walk = new Walk(
                    file.location(),
                    length,
                    folder,
                    limits,
                    new ProtoReader(bytes, file.location(), null, "ModelProto", length, limits.maxNesting(), ADVICE));
            walk.model();
            return new TensorListing(file.location(), walk.tensors, walk.metadata(), walk.skipped);
        }
    }

    /** The state of one listing. */
    private static final class Walk {
        private final String location;
        private final long fileLength;
        private final FolderFiles folder;
        private final ReadLimits limits;
        private final ProtoReader p;
        private final List<StoredTensor> tensors = new ArrayList<>();
        private final List<String> skipped = new ArrayList<>();
        /** Reports made once per file however often their field repeats (a set: fields may repeat millions of times). */
        private final java.util.Set<String> reportedOnce = new java.util.HashSet<>();

        private final Set<String> names = new HashSet<>();
        private final Map<String, String> facts = new LinkedHashMap<>();
        private final Map<String, String> props = new LinkedHashMap<>();
        private final Map<String, InputFile> externalFiles = new HashMap<>();
        private final Map<String, Long> externalLengths = new HashMap<>();

        Walk(String location, long fileLength, FolderFiles folder, ReadLimits limits, ProtoReader p) {
            this.location = location;
            this.fileLength = fileLength;
            this.folder = folder;
            this.limits = limits;
            this.p = p;
        }

        Map<String, String> metadata() {
            Map<String, String> all = new LinkedHashMap<>(facts);
            props.forEach(all::putIfAbsent);
            return all;
        }

        void model() throws IOException {
            boolean sawGraph = false;
            List<String> opsets = new ArrayList<>();
            while (p.next()) {
                switch (p.field()) {
                    case MODEL_IR_VERSION -> facts.put("onnx.ir_version", Long.toString(varint("ir_version")));
                    case MODEL_PRODUCER_NAME -> facts.put("onnx.producer_name", string("producer_name"));
                    case MODEL_PRODUCER_VERSION -> facts.put("onnx.producer_version", string("producer_version"));
                    case MODEL_DOMAIN -> facts.put("onnx.domain", string("domain"));
                    case MODEL_VERSION -> facts.put("onnx.model_version", Long.toString(varint("model_version")));
                    case MODEL_GRAPH -> {
                        sawGraph = true;
                        graph("graph");
                    }
                    case MODEL_OPSET_IMPORT -> opsets.add(opset());
                    case MODEL_METADATA_PROPS -> entry(props);
                    case MODEL_TRAINING_INFO -> skipOnce("training_info: training graphs are not read");
                    case MODEL_FUNCTIONS -> skipOnce("functions: Constants inside model-local functions are not read");
                    default -> p.skipField();
                }
            }
            if (!sawGraph) {
                throw fault("it has no graph, so it is not an ONNX model (or is an empty one)");
            }
            if (!opsets.isEmpty()) {
                facts.put("onnx.opset_import", String.join(", ", opsets));
            }
        }

        /** Walks the GraphProto in the current field: the main graph or a subgraph. */
        private void graph(String path) throws IOException {
            p.enter("GraphProto");
            while (p.next()) {
                switch (p.field()) {
                    case GRAPH_NODE -> node(path);
                    case GRAPH_INITIALIZER -> {
                        TensorFields t = tensor();
                        add(t, t.name(), path + ".initializer");
                    }
                    case GRAPH_SPARSE_INITIALIZER -> {
                        String name = sparseName();
                        report(path + ".sparse_initializer '" + name + "': sparse tensors are not supported");
                    }
                    case GRAPH_NAME -> {
                        String name = string("graph name");
                        if (p.depth() == 2) {
                            facts.put("onnx.graph_name", name);
                        }
                    }
                    default -> p.skipField();
                }
            }
            p.exit();
        }

        private void node(String path) throws IOException {
            p.enter("NodeProto");
            String output = null;
            String opType = "";
            String domain = "";
            Map<String, TensorFields> attributeTensors = new LinkedHashMap<>();
            List<String> attributeNames = new ArrayList<>();
            while (p.next()) {
                switch (p.field()) {
                    case NODE_OUTPUT -> {
                        if (output == null) {
                            output = string("node output");
                        } else {
                            p.skipField();
                        }
                    }
                    case NODE_OP_TYPE -> opType = string("op_type");
                    case NODE_DOMAIN -> domain = string("node domain");
                    case NODE_ATTRIBUTE -> attribute(path, attributeTensors, attributeNames);
                    default -> p.skipField();
                }
            }
            p.exit();
            if (!opType.equals("Constant") || !(domain.isEmpty() || domain.equals("ai.onnx"))) {
                return;
            }
            String where = path + ".node Constant '" + (output == null ? "" : output) + "'";
            TensorFields value = attributeTensors.get("value");
            if (value != null) {
                add(value, output != null && !output.isEmpty() ? output : value.name(), where);
                return;
            }
            for (String a : attributeNames) {
                if (OTHER_CONSTANT_FORMS.contains(a)) {
                    report(where + ": its " + a + " attribute is not a dense tensor");
                    return;
                }
            }
            report(where + ": it has no value attribute");
        }

        /** Reads an attribute: its tensor (kept by name) and its subgraphs (walked). */
        private void attribute(String path, Map<String, TensorFields> tensorsByName, List<String> attributeNames)
                throws IOException {
            p.enter("AttributeProto");
            String name = "";
            TensorFields t = null;
            while (p.next()) {
                switch (p.field()) {
                    case ATTR_NAME -> name = string("attribute name");
                    case ATTR_T -> t = tensor();
                    case ATTR_G, ATTR_GRAPHS -> graph(path + "/" + (name.isEmpty() ? "subgraph" : name));
                    default -> p.skipField();
                }
            }
            p.exit();
            attributeNames.add(name);
            if (t != null) {
                tensorsByName.put(name, t);
            }
        }

        private TensorFields tensor() throws IOException {
            p.enter("TensorProto");
            String name = "";
            long dataType = 0;
            long[] dims = new long[0];
            Run raw = null;
            Run typed = null;
            int typedField = 0;
            boolean external = false;
            Map<String, String> externalData = new LinkedHashMap<>();
            String unsupported = null;
            while (p.next()) {
                int field = p.field();
                switch (field) {
                    case TENSOR_DIMS -> dims = dims(dims, name);
                    case TENSOR_DATA_TYPE -> dataType = varint("data_type");
                    case TENSOR_NAME -> name = string("tensor name");
                    case TENSOR_RAW_DATA -> raw = run("raw_data");
                    case TENSOR_DATA_LOCATION -> external = varint("data_location") == LOCATION_EXTERNAL;
                    case TENSOR_EXTERNAL_DATA -> entry(externalData);
                    case TENSOR_SEGMENT -> {
                        unsupported = "its values are split into segments, which are not supported";
                        p.skipField();
                    }
                    case 4, 5, 7, 10, 11 -> {
                        String fieldName = Storage.fieldName(field);
                        if (p.wireType() != ProtoReader.LEN) {
                            unsupported = "its " + fieldName + " is stored unpacked (one tag per value), which is not "
                                    + "supported; re-save the model with the onnx library, which packs it";
                            p.skipField();
                        } else if (typed == null) {
                            typed = run(fieldName);
                            typedField = field;
                        } else if (typedField == field) {
                            unsupported =
                                    "its " + fieldName + " is split into several runs, which is not supported; re-save "
                                            + "the model with the onnx library, which writes one";
                            p.skipField();
                        } else {
                            throw tensorFault(
                                    name,
                                    "it holds values in both " + Storage.fieldName(typedField) + " and " + fieldName);
                        }
                    }
                    default -> p.skipField();
                }
            }
            p.exit();
            return new TensorFields(name, dataType, dims, raw, typed, typedField, external, externalData, unsupported);
        }

        /** Appends one packed or unpacked {@code dims} field. */
        private long[] dims(long[] dims, String tensor) throws IOException {
            long[] out = dims;
            long fieldEnd = p.end();
            boolean packed = p.wireType() == ProtoReader.LEN;
            if (packed) {
                long n = p.readLength();
                fieldEnd = p.position() + n;
            } else if (p.wireType() != ProtoReader.VARINT) {
                throw tensorFault(tensor, "its dims field has wire type " + p.wireType() + ", not a varint");
            }
            do {
                long d = p.readRawVarint(fieldEnd);
                if (d < 0) {
                    throw tensorFault(tensor, "it has the negative dimension " + d);
                }
                if (out.length == MAX_RANK) {
                    throw tensorFault(tensor, "it has more than " + MAX_RANK + " dimensions");
                }
                out = Arrays.copyOf(out, out.length + 1);
                out[out.length - 1] = d;
            } while (packed && p.position() < fieldEnd);
            return out;
        }

        private String sparseName() throws IOException {
            p.enter("SparseTensorProto");
            String name = "";
            while (p.next()) {
                if (p.field() == SPARSE_VALUES) {
                    name = tensor().name();
                } else {
                    p.skipField();
                }
            }
            p.exit();
            return name;
        }

        private String opset() throws IOException {
            p.enter("OperatorSetIdProto");
            String domain = "";
            long version = 0;
            while (p.next()) {
                switch (p.field()) {
                    case OPSET_DOMAIN -> domain = string("opset domain");
                    case OPSET_VERSION -> version = varint("opset version");
                    default -> p.skipField();
                }
            }
            p.exit();
            return (domain.isEmpty() ? "ai.onnx" : domain) + ":" + version;
        }

        /** Reads a StringStringEntryProto into {@code into}. */
        private void entry(Map<String, String> into) throws IOException {
            p.enter("StringStringEntryProto");
            String key = "";
            String value = "";
            while (p.next()) {
                switch (p.field()) {
                    case ENTRY_KEY -> key = string("entry key");
                    case ENTRY_VALUE -> value = string("entry value");
                    default -> p.skipField();
                }
            }
            p.exit();
            into.put(key, value);
        }

        private void skipOnce(String report) throws IOException {
            p.skipField();
            if (reportedOnce.add(report)) {
                report(report);
            }
        }

        private void report(String what) throws MalformedTensorFileException {
            checkCount();
            skipped.add(what);
        }

        private void checkCount() throws MalformedTensorFileException {
            if (tensors.size() + skipped.size() >= limits.maxTensors()) {
                throw fault("it holds more than " + limits.maxTensors() + " tensors. If the file is trusted, raise "
                        + "the read option maxTensors.");
            }
        }

        /** Lists one tensor, or reports why it is skipped. */
        private void add(TensorFields t, String name, String where) throws IOException {
            if (name == null || name.isEmpty()) {
                report(where + ": a tensor without a name");
                return;
            }
            if (!names.add(name)) {
                throw tensorFault(
                        name,
                        "two tensors (initializers or Constant outputs) have this name, but ONNX names "
                                + "must be unique. Fix the exporter or rename one.");
            }
            String printable = MalformedTensorFileException.printable(name);
            OnnxDataType type = OnnxDataType.of(t.dataType());
            if (type == null || type.dtype == null) {
                report(where + " '" + printable + "': "
                        + (type == null
                                ? "unknown ONNX data type " + t.dataType()
                                : type + " tensors are not supported"));
            } else if (t.unsupported() != null) {
                report(where + " '" + printable + "': " + t.unsupported());
            } else {
                checkCount();
                tensors.add(new StoredTensor(name, type.dtype, t.dims(), data(t, name, type)));
            }
        }

        private TensorData data(TensorFields t, String name, OnnxDataType type) throws IOException {
            long elements;
            long bytes;
            try {
                elements = 1;
                for (long d : t.dims()) {
                    elements = Math.multiplyExact(elements, d);
                }
                bytes = type.dtype.byteSize(elements);
            } catch (ArithmeticException e) {
                throw tensorFault(name, "its shape " + Arrays.toString(t.dims()) + " overflows 64 bits");
            }
            if (t.external()) {
                return external(t, name, bytes);
            }
            if (t.raw() != null && t.typed() != null) {
                throw tensorFault(name, "it holds values in both raw_data and " + Storage.fieldName(t.typedField()));
            }
            if (t.raw() != null) {
                checkSize(name, "raw_data", t.raw().length(), bytes, t);
                return TensorData.plain(location, fileLength, t.raw().offset(), bytes);
            }
            if (t.typed() == null) {
                if (elements != 0) {
                    throw tensorFault(
                            name,
                            "it holds no values but its shape " + Arrays.toString(t.dims()) + " needs " + elements);
                }
                return TensorData.plain(location, fileLength, 0, 0);
            }
            String fieldName = Storage.fieldName(t.typedField());
            if (t.typedField() != type.storage.field) {
                throw tensorFault(
                        name,
                        "its values are in " + fieldName + ", which does not hold " + type + " values ("
                                + Storage.fieldName(type.storage.field) + " does)");
            }
            Run run = t.typed();
            if (!type.storage.varints()) {
                checkSize(name, fieldName, run.length(), bytes, t);
                return TensorData.plain(location, fileLength, run.offset(), bytes);
            }
            // Each varint takes 1 to 10 bytes; the exact count is checked when the values are decoded.
            if (run.length() < elements || run.length() / 10 > elements) {
                throw tensorFault(
                        name,
                        "its " + fieldName + " has " + run.length() + " bytes, which cannot hold the " + elements
                                + " values its shape " + Arrays.toString(t.dims()) + " needs");
            }
            long rows = t.dims().length == 0 ? 1 : t.dims()[0];
            return new TensorData(
                    location,
                    fileLength,
                    run.offset(),
                    bytes,
                    new VarintDecoder(
                            location,
                            name,
                            run.offset(),
                            run.length(),
                            rows,
                            elements,
                            type.dtype.bits() / 8,
                            type.min,
                            type.max));
        }

        private void checkSize(String name, String field, long stored, long needed, TensorFields t)
                throws MalformedTensorFileException {
            if (stored != needed) {
                throw tensorFault(
                        name,
                        "its " + field + " has " + stored + " bytes but its shape " + Arrays.toString(t.dims())
                                + " needs " + needed + ". The file is corrupt.");
            }
        }

        private TensorData external(TensorFields t, String name, long bytes) throws IOException {
            String where = t.externalData().get("location");
            if (where == null) {
                throw tensorFault(name, "its data is EXTERNAL but external_data has no location");
            }
            long offset = number(t, name, "offset", 0);
            long length = number(t, name, "length", bytes);
            if (length != bytes) {
                throw tensorFault(
                        name,
                        "its external length " + length + " differs from the " + bytes + " bytes its shape "
                                + Arrays.toString(t.dims()) + " needs");
            }
            InputFile data = externalFiles.get(where);
            if (data == null) {
                data = folder.resolve(location, where);
                externalFiles.put(where, data);
                externalLengths.put(where, data.length());
            }
            long dataLength = externalLengths.get(where);
            if (offset > dataLength || length > dataLength - offset) {
                throw tensorFault(
                        name,
                        "its external range " + offset + "+" + length + " lies beyond the end of '"
                                + MalformedTensorFileException.printable(where) + "' (" + dataLength
                                + " bytes). The data file is "
                                + "truncated or belongs to another model.");
            }
            return TensorData.plain(data.location(), dataLength, offset, length);
        }

        private long number(TensorFields t, String name, String key, long absent) throws MalformedTensorFileException {
            String text = t.externalData().get(key);
            if (text == null) {
                return absent;
            }
            try {
                long v = Long.parseLong(text.trim());
                if (v >= 0) {
                    return v;
                }
            } catch (NumberFormatException e) {
                // reported below with the text
            }
            throw tensorFault(
                    name,
                    "its external " + key + " '" + MalformedTensorFileException.printable(text)
                            + "' is not a non-negative integer");
        }

        // Typed field reads: a wire type that does not fit the field is a corrupt file.

        /**
         * A string field. onnx.proto is proto2, whose strings protobuf does not check for UTF-8, so neither does
         * this: invalid bytes become U+FFFD rather than failing the model.
         */
        private String string(String what) throws IOException {
            p.expect(ProtoReader.LEN, what);
            return new String(p.readBytes(), StandardCharsets.UTF_8);
        }

        private long varint(String what) throws IOException {
            p.expect(ProtoReader.VARINT, what);
            return p.readVarint();
        }

        /** Locates a length-delimited field's bytes without reading them. */
        private Run run(String what) throws IOException {
            p.expect(ProtoReader.LEN, what);
            long n = p.readLength();
            Run r = new Run(p.position(), n);
            p.skip(n);
            return r;
        }

        /** A fault in the model as a whole. */
        private MalformedTensorFileException fault(String what) {
            return new MalformedTensorFileException(location, null, what);
        }

        private MalformedTensorFileException tensorFault(String tensor, String what) {
            return new MalformedTensorFileException(location, tensor == null || tensor.isEmpty() ? null : tensor, what);
        }
    }
}
