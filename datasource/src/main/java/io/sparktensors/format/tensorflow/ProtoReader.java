package io.sparktensors.format.tensorflow;

import io.sparktensors.errors.MalformedTensorFileException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads the protobuf wire format of one message held in a byte array: tags, varints, fixed32 values and
 * length-delimited fields, each checked against the message's end. Only the few TensorFlow messages a
 * bundle needs are read, so there is no schema here: callers switch on field numbers and skip the rest.
 * Nested messages are readers of their own, at most {@code maxNesting} deep.
 */
final class ProtoReader {
  static final int VARINT = 0;
  static final int FIXED64 = 1;
  static final int LENGTH_DELIMITED = 2;
  static final int FIXED32 = 5;

  private final String file;
  private final String tensor;
  private final String message;
  private final byte[] buf;
  private final int limit;
  private final int depth;
  private final int maxNesting;
  private int pos;
  private int wireType = -1;

  private ProtoReader(String file, String tensor, String message, byte[] buf, int offset, int length, int depth,
      int maxNesting) {
    this.file = file;
    this.tensor = tensor;
    this.message = message;
    this.buf = buf;
    this.pos = offset;
    this.limit = offset + length;
    this.depth = depth;
    this.maxNesting = maxNesting;
  }

  /**
   * A reader of the message {@code buf[offset, offset + length)}.
   *
   * @param tensor the tensor the message describes, for error messages, or null
   * @param message the message type, for error messages
   */
  static ProtoReader of(String file, String tensor, String message, byte[] buf, int offset, int length,
      int maxNesting) {
    return new ProtoReader(file, tensor, message, buf, offset, length, 1, maxNesting);
  }

  /** Whether another field follows. */
  boolean hasField() {
    return pos < limit;
  }

  /** Reads the next field's tag and returns its field number; {@link #wireType()} tells its encoding. */
  int readField() throws MalformedTensorFileException {
    long tag = readVarint();
    if (tag <= 0 || tag > 0xffff_ffffL || (tag >>> 3) == 0) {
      throw fault("a field tag is " + tag + ", which names no field");
    }
    wireType = (int) (tag & 7);
    return (int) (tag >>> 3);
  }

  int wireType() {
    return wireType;
  }

  /** Reads a varint field's value (int32, int64, enum, bool). */
  long readVarintField(int field) throws MalformedTensorFileException {
    expect(field, VARINT);
    return readVarint();
  }

  /** Reads a fixed32 field's value. */
  int readFixed32Field(int field) throws MalformedTensorFileException {
    expect(field, FIXED32);
    return readFixed32();
  }

  /** Reads a length-delimited field holding a message, as a reader of its own. */
  ProtoReader readMessageField(int field, String nestedMessage) throws MalformedTensorFileException {
    expect(field, LENGTH_DELIMITED);
    int length = readLength();
    if (depth >= maxNesting) {
      throw fault("messages nest deeper than the limit of " + maxNesting
          + ". If the file is trusted, raise the read option maxNesting.");
    }
    ProtoReader nested = new ProtoReader(file, tensor, nestedMessage, buf, pos, length, depth + 1, maxNesting);
    pos += length;
    return nested;
  }

  /** Reads a length-delimited field's bytes. */
  byte[] readBytesField(int field) throws MalformedTensorFileException {
    expect(field, LENGTH_DELIMITED);
    int length = readLength();
    byte[] out = Arrays.copyOfRange(buf, pos, pos + length);
    pos += length;
    return out;
  }

  /** Reads a length-delimited field holding UTF-8 text. */
  String readStringField(int field) throws MalformedTensorFileException {
    String s = utf8(readBytesField(field));
    if (s == null) {
      throw fault("field " + field + " is not valid UTF-8 text");
    }
    return s;
  }

  /** Bytes left in this message. */
  int remaining() {
    return limit - pos;
  }

  /** The UTF-8 text of {@code bytes}, or null when they are not valid UTF-8. */
  static String utf8(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /** Skips the value of the field just read. */
  void skipField() throws MalformedTensorFileException {
    switch (wireType) {
      case VARINT -> readVarint();
      case FIXED64 -> skip(8);
      case LENGTH_DELIMITED -> skip(readLength());
      case FIXED32 -> skip(4);
      default -> throw fault("a field has wire type " + wireType + " (groups or an unknown encoding), which "
          + "TensorFlow never writes");
    }
  }

  /** Reads a base-128 varint of at most 64 bits. */
  long readVarint() throws MalformedTensorFileException {
    long value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= limit) {
        throw fault("a varint runs past the end of the message");
      }
      int b = buf[pos++] & 0xff;
      if (shift == 63 && b > 1) {
        throw fault("a varint overflows 64 bits");
      }
      value |= (long) (b & 0x7f) << shift;
      if (b < 0x80) {
        return value;
      }
    }
    throw fault("a varint overflows 64 bits");
  }

  private int readFixed32() throws MalformedTensorFileException {
    if (limit - pos < 4) {
      throw fault("a fixed32 value runs past the end of the message");
    }
    int v = (buf[pos] & 0xff) | (buf[pos + 1] & 0xff) << 8 | (buf[pos + 2] & 0xff) << 16 | (buf[pos + 3] & 0xff) << 24;
    pos += 4;
    return v;
  }

  private int readLength() throws MalformedTensorFileException {
    long length = readVarint();
    if (length < 0 || length > limit - pos) {
      throw fault("a field declares " + Long.toUnsignedString(length) + " bytes but only " + (limit - pos)
          + " remain in the message");
    }
    return (int) length;
  }

  private void skip(int n) throws MalformedTensorFileException {
    if (limit - pos < n) {
      throw fault("a field runs past the end of the message");
    }
    pos += n;
  }

  private void expect(int field, int wanted) throws MalformedTensorFileException {
    if (wireType != wanted) {
      throw fault("field " + field + " has wire type " + wireType + " where " + wanted + " belongs");
    }
  }

  /** A fault in this message, naming file, tensor and message type. */
  MalformedTensorFileException fault(String what) {
    return new MalformedTensorFileException(file, tensor, "its " + message + " is malformed: " + what
        + ". The checkpoint is corrupt or was not written by TensorFlow.");
  }
}
