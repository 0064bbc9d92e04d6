package io.sparktensors.format.tensorflow;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.proto.ProtoReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The names a TF2 checkpoint's object graph gives its tensors. The graph is the {@code DT_STRING} scalar
 * under {@link #KEY}: TensorFlow's string tensor encoding (the varint length of each string, a 4-byte
 * checksum of those lengths, then the strings) of one serialized {@code TrackableObjectGraph}. Each of its
 * nodes lists attributes ({@code SerializedTensor}: name, full_name, checkpoint_key); the full name is the
 * variable's own name, such as {@code dense/kernel}.
 */
final class ObjectGraph {
    /** The bundle key of the object graph. */
    static final String KEY = "_CHECKPOINTABLE_OBJECT_GRAPH";

    private ObjectGraph() {}

    /**
     * Maps checkpoint keys to full names, from the string tensor {@code bytes}. Attributes without a full
     * name are left out.
     *
     * <p>TensorFlow's checksums of a string tensor cover each length as a 4-byte integer in the bundle's
     * byte order, not as the varint stored: the length checksum is the masked CRC32C of those integers, and
     * the entry's checksum runs over those integers, the stored length checksum and the strings.
     */
    static Map<String, String> fullNames(String file, byte[] bytes, int maskedCrc32c, boolean bigEndian, int maxNesting)
            throws IOException {
        ProtoReader tensor = TensorFlowReader.proto(file, KEY, "string tensor", bytes, 0, bytes.length, maxNesting);
        long length = tensor.readRawVarint(bytes.length);
        int lengthsEnd = (int) tensor.position();
        long stringBytes = bytes.length - lengthsEnd - 4L;
        if (stringBytes < 0 || length != stringBytes) {
            throw tensor.fault("it holds " + bytes.length + " bytes, not one string of " + Long.toUnsignedString(length)
                    + " bytes after its length and checksum");
        }
        ByteBuffer lengthInt = ByteBuffer.allocate(4)
                .order(bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN)
                .putInt(0, (int) length);
        CRC32C crc = new CRC32C();
        crc.update(lengthInt.duplicate());
        int storedLengthCrc =
                ByteBuffer.wrap(bytes, lengthsEnd, 4).order(lengthInt.order()).getInt();
        crc.update(bytes, lengthsEnd, bytes.length - lengthsEnd);
        if (TableReader.mask(crc.getValue()) != maskedCrc32c) {
            throw new MalformedTensorFileException(
                    file,
                    KEY,
                    "the object graph fails its CRC32C checksum. The data "
                            + "shard is corrupt; copy the checkpoint again from its source.");
        }
        CRC32C lengthCrc = new CRC32C();
        lengthCrc.update(lengthInt);
        if (TableReader.mask(lengthCrc.getValue()) != storedLengthCrc) {
            throw tensor.fault("the checksum of its string lengths does not match them");
        }
        ProtoReader graph = TensorFlowReader.proto(
                file, KEY, "TrackableObjectGraph", bytes, lengthsEnd + 4, (int) length, maxNesting);
        Map<String, String> names = new HashMap<>();
        while (graph.next()) {
            if (graph.field() != 1) {
                graph.skipField();
                continue;
            }
            graph.enter("TrackableObject");
            while (graph.next()) {
                if (graph.field() == 2) {
                    readAttribute(graph, names);
                } else {
                    graph.skipField();
                }
            }
            graph.exit();
        }
        return names;
    }

    /** Reads the SerializedTensor in the current field. */
    private static void readAttribute(ProtoReader p, Map<String, String> names) throws IOException {
        p.enter("SerializedTensor");
        String fullName = "";
        String key = null;
        while (p.next()) {
            switch (p.field()) {
                case 2 -> fullName = p.readString();
                case 3 -> key = p.readString();
                default -> p.skipField();
            }
        }
        p.exit();
        if (key != null && !fullName.isEmpty()) {
            names.put(key, fullName);
        }
    }
}
