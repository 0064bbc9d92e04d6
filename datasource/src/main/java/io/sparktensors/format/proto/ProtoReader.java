package io.sparktensors.format.proto;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.LittleEndian;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads the protobuf wire format without a schema: callers switch on field numbers, read the fields they
 * know and skip the rest. The reader keeps the stack of open messages; every read is checked against the
 * end of the innermost one before it reaches the {@link ByteSource}, so a length or a varint cannot run
 * past its message, and messages nest at most {@code maxNesting} deep. Faults are
 * {@link MalformedTensorFileException}s naming the file, the tensor when known, the message type and the
 * byte, followed by the caller's advice. Not thread-safe.
 *
 * <p>A walk: {@code while (p.next()) { switch (p.field()) { case 1 -> x = p.readVarint(); case 2 -> {
 * p.enter("Inner"); ...; p.exit(); } default -> p.skipField(); } }}.
 */
public final class ProtoReader {
    public static final int VARINT = 0;
    public static final int FIXED64 = 1;
    public static final int LEN = 2;
    public static final int FIXED32 = 5;
    /** Protobuf's largest field number. */
    public static final int MAX_FIELD = (1 << 29) - 1;

    private final ByteSource in;
    private final String file;
    private final String tensor;
    private final String advice;
    private final int maxNesting;
    /** Bound once so the varint loop's error callback costs no allocation per read. */
    private final Varint.Faults faults = this::fault;

    private long[] ends = new long[4];
    private String[] messages = new String[4];
    private int depth;
    private int field;
    private int wireType = -1;
    private long fieldAt;

    /**
     * A reader of the message of type {@code message} that runs from {@code in}'s position to {@code end}.
     *
     * @param file the file, for error messages
     * @param tensor the tensor the message describes, for error messages, or null
     * @param maxNesting most messages open at once, this one included
     * @param advice what the user should know or do, appended to wire-format faults
     */
    public ProtoReader(
            ByteSource in, String file, String tensor, String message, long end, int maxNesting, String advice) {
        this.in = in;
        this.file = file;
        this.tensor = tensor;
        this.advice = advice;
        this.maxNesting = maxNesting;
        ends[0] = end;
        messages[0] = message;
        depth = 1;
    }

    /** The position of the next byte. */
    public long position() {
        return in.position();
    }

    /** Where the innermost open message ends. */
    public long end() {
        return ends[depth - 1];
    }

    /** How many messages are open: 1 in the outermost. */
    public int depth() {
        return depth;
    }

    /**
     * Reads the next field's tag, or returns false at the end of the innermost message. The tag must name a
     * field (1 to {@value #MAX_FIELD}) and a wire type other than the deprecated groups.
     */
    public boolean next() throws IOException {
        if (in.position() >= end()) {
            wireType = -1;
            return false;
        }
        long at = in.position();
        long tag = Varint.read(in, end(), faults);
        long number = tag >>> 3;
        int wire = (int) (tag & 7);
        if (number == 0
                || number > MAX_FIELD
                || !(wire == VARINT || wire == FIXED64 || wire == LEN || wire == FIXED32)) {
            throw fault("the tag " + Long.toUnsignedString(tag) + " at byte " + at + " is invalid (field "
                    + Long.toUnsignedString(number) + ", wire type " + wire + ")");
        }
        field = (int) number;
        wireType = wire;
        fieldAt = at;
        return true;
    }

    /** The number of the field whose tag {@link #next} read. */
    public int field() {
        return field;
    }

    /** The wire type of that field. */
    public int wireType() {
        return wireType;
    }

    /**
     * Refuses the current field unless its wire type is {@code wire}.
     *
     * @param name the field's name, for the error, or null to name it by number
     */
    public void expect(int wire, String name) throws MalformedTensorFileException {
        if (wireType != wire) {
            throw fault((name == null ? "field " + field : "the " + name + " field (" + field + ")") + " at byte "
                    + fieldAt + " has wire type " + wireType + " where " + wire + " belongs");
        }
    }

    /** The value of a varint field (int32, int64, uint64, enum, bool). */
    public long readVarint() throws IOException {
        expect(VARINT, null);
        return Varint.read(in, end(), faults);
    }

    /**
     * A varint without a tag (an element of a packed field, a length prefix) that must end before
     * {@code limit} and the end of the message.
     */
    public long readRawVarint(long limit) throws IOException {
        return Varint.read(in, Math.min(limit, end()), faults);
    }

    /** The value of a fixed32 field. */
    public int readFixed32() throws IOException {
        expect(FIXED32, null);
        return LittleEndian.getInt(fixed(4), 0);
    }

    /** The value of a fixed64 field. */
    public long readFixed64() throws IOException {
        expect(FIXED64, null);
        return LittleEndian.getLong(fixed(8), 0);
    }

    /**
     * The length of a length-delimited field, checked against the end of the message; the field's bytes
     * follow at {@link #position()}, to be read or {@link #skip skipped}.
     */
    public long readLength() throws IOException {
        expect(LEN, null);
        return length();
    }

    /** The bytes of a length-delimited field. */
    public byte[] readBytes() throws IOException {
        return in.readBytes(readLength());
    }

    /** The text of a length-delimited field, which must be valid UTF-8. */
    public String readString() throws IOException {
        String s = utf8(readBytes());
        if (s == null) {
            throw fault("field " + field + " at byte " + fieldAt + " is not valid UTF-8 text");
        }
        return s;
    }

    /** Moves past {@code n} bytes of the message without reading them. */
    public void skip(long n) throws IOException {
        if (n < 0 || n > end() - in.position()) {
            throw fault(n + " bytes at byte " + in.position() + " run past the end of the message at byte " + end());
        }
        in.skip(n);
    }

    /** Skips the value of the current field. */
    public void skipField() throws IOException {
        switch (wireType) {
            case VARINT -> Varint.read(in, end(), faults);
            case FIXED64 -> fixedSkip(8);
            case FIXED32 -> fixedSkip(4);
            case LEN -> in.skip(length());
            default -> throw new IllegalStateException("no field to skip");
        }
    }

    /**
     * Opens the current field, a length-delimited one, as a nested message of type {@code message}: fields
     * are read from it until {@link #next} returns false, then {@link #exit} returns to the enclosing one.
     */
    public void enter(String message) throws IOException {
        expect(LEN, message);
        if (depth >= maxNesting) {
            throw new MalformedTensorFileException(
                    file,
                    tensor,
                    "its messages nest deeper than the limit of "
                            + maxNesting + " (a " + message + " at byte " + fieldAt + " in a " + messages[depth - 1]
                            + "). If the file is trusted, raise the read option maxNesting.");
        }
        long n = length();
        if (depth == ends.length) {
            ends = Arrays.copyOf(ends, depth * 2);
            messages = Arrays.copyOf(messages, depth * 2);
        }
        ends[depth] = in.position() + n;
        messages[depth] = message;
        depth++;
        wireType = -1;
    }

    /** Skips what is left of the innermost message and returns to the one enclosing it. */
    public void exit() throws IOException {
        if (depth == 1) {
            throw new IllegalStateException("the outermost message cannot be left");
        }
        in.skip(end() - in.position());
        depth--;
        wireType = -1;
    }

    /** A fault in the innermost message: what is wrong, where, and the caller's advice. */
    public MalformedTensorFileException fault(String what) {
        return new MalformedTensorFileException(
                file, tensor, "its " + messages[depth - 1] + " is malformed: " + what + ". " + advice);
    }

    /** The UTF-8 text of {@code bytes}, or null when they are not valid UTF-8. */
    public static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private long length() throws IOException {
        long at = in.position();
        long n = Varint.read(in, end(), faults);
        if (n < 0 || n > end() - in.position()) {
            throw fault("the field at byte " + at + " declares " + Long.toUnsignedString(n) + " bytes but only "
                    + (end() - in.position()) + " remain: it runs past the end of its message at byte " + end());
        }
        return n;
    }

    private byte[] fixed(int n) throws IOException {
        checkFixed(n);
        return in.readBytes(n);
    }

    private void fixedSkip(int n) throws IOException {
        checkFixed(n);
        in.skip(n);
    }

    private void checkFixed(int n) throws MalformedTensorFileException {
        if (end() - in.position() < n) {
            throw fault("the " + n + "-byte field at byte " + in.position() + " runs past the end of its message at "
                    + "byte " + end());
        }
    }
}
