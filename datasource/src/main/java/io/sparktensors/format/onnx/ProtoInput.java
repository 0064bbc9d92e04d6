package io.sparktensors.format.onnx;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.StructureInput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Protobuf wire-format reads over a {@link StructureInput}: tags, varints, length-delimited fields. Every
 * read takes the end of the enclosing message, and a field may not run past it.
 */
final class ProtoInput {
  static final int VARINT = 0;
  static final int FIXED64 = 1;
  static final int LEN = 2;
  static final int FIXED32 = 5;
  /** Protobuf's largest field number. */
  private static final long MAX_FIELD = (1L << 29) - 1;

  private final StructureInput in;

  ProtoInput(StructureInput in) {
    this.in = in;
  }

  long position() {
    return in.position();
  }

  /** The next tag before {@code end}, or -1 at {@code end}. */
  long readTag(long end) throws IOException {
    if (in.position() >= end) {
      return -1;
    }
    long at = in.position();
    long tag = readVarint(end);
    long field = tag >>> 3;
    int wire = (int) (tag & 7);
    if (field == 0 || field > MAX_FIELD || !(wire == VARINT || wire == FIXED64 || wire == LEN || wire == FIXED32)) {
      throw in.fault("the protobuf tag " + Long.toUnsignedString(tag) + " at byte " + at + " is invalid "
          + "(field " + Long.toUnsignedString(field) + ", wire type " + wire + "). The file is corrupt or not an "
          + "ONNX model.");
    }
    return tag;
  }

  static int field(long tag) {
    return (int) (tag >>> 3);
  }

  static int wire(long tag) {
    return (int) (tag & 7);
  }

  /** A varint of at most 10 bytes that fits 64 bits. */
  long readVarint(long end) throws IOException {
    long at = in.position();
    long value = 0;
    for (int shift = 0; ; shift += 7) {
      if (in.position() >= end) {
        throw in.fault("the varint at byte " + at + " runs past the end of its message at byte " + end
            + ". The file is truncated or corrupt.");
      }
      int b = in.readByte();
      if (shift == 63 && b > 1) {
        throw in.fault("the varint at byte " + at + " overflows 64 bits. The file is corrupt.");
      }
      value |= (long) (b & 0x7f) << shift;
      if (b < 0x80) {
        return value;
      }
    }
  }

  /** The length prefix of a length-delimited field, checked against {@code end}. */
  long readLength(long end) throws IOException {
    long at = in.position();
    long n = readVarint(end);
    if (n < 0 || n > end - in.position()) {
      throw in.fault("the field of " + Long.toUnsignedString(n) + " bytes at byte " + at
          + " runs past the end of its enclosing message at byte " + end + ". The file is truncated or corrupt.");
    }
    return n;
  }

  /** A length-delimited UTF-8 string. */
  String readString(long end) throws IOException {
    long n = readLength(end);
    return new String(in.readBytes(n), StandardCharsets.UTF_8);
  }

  void skip(long n) throws MalformedTensorFileException {
    in.skip(n);
  }

  /** Skips the value of a field whose tag was just read. */
  void skipValue(long tag, long end) throws IOException {
    switch (wire(tag)) {
      case VARINT -> readVarint(end);
      case FIXED64 -> skipFixed(8, end);
      case FIXED32 -> skipFixed(4, end);
      default -> in.skip(readLength(end));
    }
  }

  private void skipFixed(int n, long end) throws MalformedTensorFileException {
    if (end - in.position() < n) {
      throw in.fault("a " + n + "-byte field at byte " + in.position() + " runs past the end of its message at "
          + "byte " + end + ". The file is truncated or corrupt.");
    }
    in.skip(n);
  }

  MalformedTensorFileException fault(String what) {
    return in.fault(what);
  }
}
