package io.sparktensors.format.safetensors;

import io.sparktensors.format.DType;
import io.sparktensors.format.JsonStrings;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Writes safetensors headers byte for byte as the reference writer does: compact JSON (serde_json's
 * escaping) with {@code __metadata__} first, then the entries, padded with spaces to a multiple of 8 bytes
 * and preceded by its little-endian length. The reference writes a multi-key {@code __metadata__} in hash
 * order; this writer keeps the map's order, so callers pass a sorted map for stable output.
 */
public final class HeaderWriter {
    /** The reference layout order: higher dtype rank first, then name by UTF-8 bytes. */
    public static final Comparator<String> NAME_ORDER =
            (a, b) -> Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));

    private HeaderWriter() {}

    /** A tensor to lay out: name, dtype, shape. */
    public record Spec(String name, DType dtype, long[] shape) {
        public long byteLength() {
            long bytes = dtype.byteSize(TensorEntry.elementCount(shape));
            if (bytes < 0) {
                throw new IllegalArgumentException("tensor " + name + ": " + Arrays.toString(shape) + " of " + dtype
                        + " does not fill whole bytes");
            }
            return bytes;
        }
    }

    /** The entries the reference writer would produce for these tensors: its order and contiguous offsets. */
    public static List<TensorEntry> layout(List<Spec> tensors) {
        List<Spec> sorted = new ArrayList<>(tensors);
        sorted.sort(
                Comparator.comparingInt((Spec s) -> -s.dtype().referenceRank()).thenComparing(Spec::name, NAME_ORDER));
        List<TensorEntry> entries = new ArrayList<>(sorted.size());
        long offset = 0;
        for (Spec s : sorted) {
            long end = Math.addExact(offset, s.byteLength());
            entries.add(new TensorEntry(s.name(), s.dtype(), s.shape(), offset, end));
            offset = end;
        }
        return entries;
    }

    /**
     * The eight length bytes plus the padded JSON header.
     *
     * @param metadata the {@code __metadata__} map in the order to write it, or null to leave it out
     * @param tensors the entries in the order they appear in the header
     */
    public static byte[] write(Map<String, String> metadata, List<TensorEntry> tensors) {
        StringBuilder json = new StringBuilder(64 + 96 * tensors.size()).append('{');
        boolean first = true;
        if (metadata != null) {
            json.append("\"__metadata__\":{");
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (!first) {
                    json.append(',');
                }
                first = false;
                JsonStrings.append(json, e.getKey(), false).append(':');
                JsonStrings.append(json, e.getValue(), false);
            }
            json.append('}');
            first = false;
        }
        for (TensorEntry t : tensors) {
            if (!first) {
                json.append(',');
            }
            first = false;
            JsonStrings.append(json, t.name(), false)
                    .append(":{\"dtype\":\"")
                    .append(t.dtype().code())
                    .append("\",\"shape\":[");
            for (int i = 0; i < t.rank(); i++) {
                json.append(i == 0 ? "" : ",").append(t.dim(i));
            }
            json.append("],\"data_offsets\":[")
                    .append(t.begin())
                    .append(',')
                    .append(t.end())
                    .append("]}");
        }
        json.append('}');
        byte[] text = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = text.length + (8 - text.length % 8) % 8;
        ByteArrayOutputStream out = new ByteArrayOutputStream(8 + padded);
        for (int i = 0; i < 8; i++) {
            out.write((int) ((long) padded >>> (8 * i)));
        }
        out.writeBytes(text);
        for (int i = text.length; i < padded; i++) {
            out.write(' ');
        }
        return out.toByteArray();
    }
}
