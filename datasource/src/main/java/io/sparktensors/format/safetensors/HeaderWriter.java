package io.sparktensors.format.safetensors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * Serializes a safetensors header the way the reference writer does: compact JSON with
 * {@code __metadata__} first, entries in the given order, padded with spaces to a multiple of 8 bytes, and
 * preceded by its little-endian length.
 */
public final class HeaderWriter {
  private static final JsonFactory JSON = JsonFactory.builder().build();

  private HeaderWriter() {}

  /**
   * The eight length bytes plus the padded JSON header.
   *
   * @param metadata the {@code __metadata__} map, or null to leave it out
   * @param tensors the entries in the order they appear in the header
   */
  public static byte[] write(Map<String, String> metadata, List<TensorEntry> tensors) {
    ByteArrayOutputStream json = new ByteArrayOutputStream();
    try (JsonGenerator g = JSON.createGenerator(json)) {
      g.writeStartObject();
      if (metadata != null) {
        g.writeObjectFieldStart(HeaderParser.METADATA_KEY);
        for (Map.Entry<String, String> e : new java.util.TreeMap<>(metadata).entrySet()) {
          g.writeStringField(e.getKey(), e.getValue());
        }
        g.writeEndObject();
      }
      for (TensorEntry t : tensors) {
        g.writeObjectFieldStart(t.name());
        g.writeStringField("dtype", t.dtype().code());
        g.writeArrayFieldStart("shape");
        for (int i = 0; i < t.rank(); i++) {
          g.writeNumber(t.dim(i));
        }
        g.writeEndArray();
        g.writeArrayFieldStart("data_offsets");
        g.writeNumber(t.begin());
        g.writeNumber(t.end());
        g.writeEndArray();
        g.writeEndObject();
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int n = json.size();
    int padded = n + (8 - n % 8) % 8;
    byte[] out = new byte[8 + padded];
    long len = padded;
    for (int i = 0; i < 8; i++) {
      out[i] = (byte) (len >>> (8 * i));
    }
    System.arraycopy(json.toByteArray(), 0, out, 8, n);
    java.util.Arrays.fill(out, 8 + n, out.length, (byte) ' ');
    return out;
  }
}
