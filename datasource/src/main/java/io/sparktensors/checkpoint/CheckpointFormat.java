package io.sparktensors.checkpoint;

import io.sparktensors.errors.TensorErrors;
import io.sparktensors.format.FormatReader;
import io.sparktensors.format.ReaderSettings;
import io.sparktensors.format.dcp.DcpReader;
import io.sparktensors.format.gguf.GgufReader;
import io.sparktensors.format.keras.KerasReader;
import io.sparktensors.format.onnx.OnnxReader;
import io.sparktensors.format.pytorch.PyTorchReader;
import io.sparktensors.format.safetensors.SafetensorsReader;
import io.sparktensors.format.tensorflow.TensorFlowReader;
import java.util.List;
import java.util.Locale;

/**
 * The checkpoint formats read, with the file names that mark them: data file suffixes and the Hugging Face
 * index that lists a sharded checkpoint. Formats are listed in the order a folder holding several is read
 * by: safetensors first, as transformers prefers it.
 */
public enum CheckpointFormat {
    SAFETENSORS(
            SafetensorsReader.NAME, List.of(".safetensors"), "model.safetensors.index.json", ".safetensors.index.json"),
    /** {@code torch.save} files; sharded with {@code pytorch_model.bin.index.json}. */
    PYTORCH(PyTorchReader.NAME, List.of(".bin", ".pt", ".pth"), "pytorch_model.bin.index.json", ".bin.index.json"),
    /** A TF checkpoint's {@code <prefix>.index} (a SavedModel folder: its {@code variables/variables.index}). */
    TENSORFLOW(TensorFlowReader.NAME, List.of(".index"), null, null),
    /** Keras 2 {@code .h5} models and weights, Keras 3 {@code .weights.h5} and {@code .keras} archives. */
    KERAS(KerasReader.NAME, List.of(".h5", ".hdf5", ".keras"), null, null),
    ONNX(OnnxReader.NAME, List.of(".onnx"), null, null),
    GGUF(GgufReader.NAME, List.of(".gguf"), null, null),
    /**
     * A {@code torch.distributed.checkpoint} folder: its {@code .metadata} is the file listed, its
     * {@code .distcp} rank files hold the bytes. A folder holding {@code .metadata} is read as DCP.
     */
    DCP(DcpReader.NAME, List.of(DcpReader.RANK_FILE_SUFFIX), null, null);

    private final String shortName;
    private final List<String> suffixes;
    private final String defaultIndex;
    private final String indexSuffix;

    CheckpointFormat(String shortName, List<String> suffixes, String defaultIndex, String indexSuffix) {
        this.shortName = shortName;
        this.suffixes = suffixes;
        this.defaultIndex = defaultIndex;
        this.indexSuffix = indexSuffix;
    }

    /** The name given to {@code spark.read.format(...)} and to {@code --format}. */
    public String shortName() {
        return shortName;
    }

    /** The index file name transformers writes for this format, or null when it has none. */
    public String defaultIndex() {
        return defaultIndex;
    }

    /** Whether {@code fileName} is a Hugging Face index of this format. */
    public boolean isIndex(String fileName) {
        return indexSuffix != null && fileName.endsWith(indexSuffix);
    }

    /**
     * Whether {@code fileName} is a data file of this format by its name (for DCP: {@code .metadata}, or a rank
     * file, which the reader refuses on its own with advice).
     */
    public boolean isDataFile(String fileName) {
        if (this == DCP && fileName.equals(DcpReader.METADATA)) {
            return true;
        }
        String lower = fileName.toLowerCase(Locale.ROOT);
        return !isIndex(fileName) && suffixes.stream().anyMatch(lower::endsWith);
    }

    /**
     * A file inside a folder of this format that stands for the folder (a SavedModel's variables index),
     * relative to it, or null.
     */
    public String nestedFile() {
        return this == TENSORFLOW ? "variables/variables.index" : this == DCP ? DcpReader.METADATA : null;
    }

    /** The reader for this format, set up as {@code settings} says. */
    public FormatReader reader(ReaderSettings settings) {
        return switch (this) {
            case SAFETENSORS -> new SafetensorsReader();
            case PYTORCH -> new PyTorchReader(settings.pickle() == ReaderSettings.PickleMode.SYMBOLIC);
            case TENSORFLOW -> new TensorFlowReader();
            case KERAS -> new KerasReader();
            case ONNX -> new OnnxReader();
            case GGUF -> new GgufReader(settings.dequantize());
            case DCP -> new DcpReader();
        };
    }

    /** The format named {@code name} (case-insensitive), or an error listing the formats there are. */
    public static CheckpointFormat byName(String name) {
        for (CheckpointFormat f : values()) {
            if (f.shortName.equalsIgnoreCase(name)) {
                return f;
            }
        }
        throw TensorErrors.unknownFormatName(
                name,
                java.util.Arrays.stream(values())
                        .map(CheckpointFormat::shortName)
                        .toList());
    }

    /** The format a file name marks (an index or a data file), or null when the name says nothing. */
    public static CheckpointFormat detect(String fileName) {
        for (CheckpointFormat f : values()) {
            if (f.isIndex(fileName)) {
                return f;
            }
        }
        for (CheckpointFormat f : values()) {
            if (f.isDataFile(fileName)) {
                return f;
            }
        }
        return null;
    }

    /** Bytes to read from a file's start for {@link #sniff}. */
    public static final int SNIFF_BYTES = 16;

    /**
     * The format a file's first bytes mark, for names that mark none ({@code last.ckpt}, {@code weights}):
     * safetensors (a plausible header length, then '{'), GGUF (its magic), Keras (the HDF5 signature), PyTorch (a
     * zip archive or a leading pickle); null for anything else (ONNX and TensorFlow files have no magic).
     */
    public static CheckpointFormat sniff(byte[] start) {
        for (CheckpointFormat f : List.of(SAFETENSORS, GGUF, KERAS, PYTORCH)) {
            if (f.reader(ReaderSettings.DEFAULTS).recognizes(start)) {
                return f;
            }
        }
        return null;
    }

    /**
     * Whether this format's file names are shared with other files, so that a folder's files of it are told by
     * their first bytes: a {@code .bin} may be a PyTorch checkpoint or an ONNX model's external data.
     */
    public boolean namesAreAmbiguous() {
        return this == PYTORCH;
    }

    /** Whether {@code fileName} is a data file or an index of any format. */
    public static boolean isTensorFile(String fileName) {
        return detect(fileName) != null;
    }
}
