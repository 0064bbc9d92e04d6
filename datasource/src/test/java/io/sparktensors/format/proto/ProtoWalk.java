package io.sparktensors.format.proto;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.StructureInput;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import io.sparktensors.testing.BytesInputFile;
import java.io.IOException;
import java.util.HexFormat;

/**
 * Walks arbitrary bytes as a protobuf message tree and writes down all it reads, so the two byte sources
 * can be compared on the same bytes. Which read a field gets follows from its number alone (so both
 * walks take the same path): length-delimited fields are entered as messages, read as bytes, read as
 * packed varints or skipped; the other wire types are read or skipped. Used by the unit tests and the
 * fuzz target.
 */
public final class ProtoWalk {
    /** The file name the walks give their errors. */
    public static final String FILE = "walk.bin";

    /**
     * What a walk saw: every field and value in order, then the fault that ended it ({@code null} when the
     * bytes were a message tree to the end).
     */
    public record Outcome(String transcript, String fault) {}

    private ProtoWalk() {}

    /** Walks {@code bytes} streamed from a file of just those bytes. */
    public static Outcome streaming(byte[] bytes, int maxNesting) {
        BytesInputFile file = new BytesInputFile(FILE, bytes);
        try (SeekableInput in = file.open(ReadPolicy.RANDOM)) {
            // Every byte is read at most once, so a budget of the file's length never runs out.
            StructureInput structure = new StructureInput(in, FILE, bytes.length, Math.max(bytes.length, 1));
            return walk(ByteSource.streaming(structure), bytes.length, maxNesting);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Walks {@code bytes} held in memory. */
    public static Outcome inMemory(byte[] bytes, int maxNesting) {
        return walk(ByteSource.of(FILE, bytes, 0, bytes.length), bytes.length, maxNesting);
    }

    /**
     * Walks a message from {@code in}'s position to {@code end}. Only {@link MalformedTensorFileException}
     * may end it early; any other exception escapes, for the caller to report.
     */
    public static Outcome walk(ByteSource in, long end, int maxNesting) {
        ProtoReader p = new ProtoReader(in, FILE, null, "Walked", end, maxNesting, "Walked bytes.");
        StringBuilder out = new StringBuilder();
        try {
            message(p, out);
            if (p.position() != end) {
                throw new AssertionError("the walk ended at byte " + p.position() + ", not at " + end);
            }
            return new Outcome(out.toString(), null);
        } catch (MalformedTensorFileException e) {
            return new Outcome(out.toString(), e.getMessage());
        } catch (IOException e) {
            throw new AssertionError("an IOException other than MalformedTensorFileException: " + e, e);
        }
    }

    private static void message(ProtoReader p, StringBuilder out) throws IOException {
        while (p.next()) {
            int field = p.field();
            out.append(p.depth())
                    .append(' ')
                    .append(field)
                    .append('/')
                    .append(p.wireType())
                    .append(' ');
            switch (p.wireType()) {
                case ProtoReader.VARINT -> out.append(field % 2 == 0 ? Long.toString(p.readVarint()) : skip(p));
                case ProtoReader.FIXED32 -> out.append(field % 2 == 0 ? Integer.toString(p.readFixed32()) : skip(p));
                case ProtoReader.FIXED64 -> out.append(field % 2 == 0 ? Long.toString(p.readFixed64()) : skip(p));
                default -> lengthDelimited(p, field, out);
            }
            out.append(" @").append(p.position()).append('\n');
        }
    }

    private static void lengthDelimited(ProtoReader p, int field, StringBuilder out) throws IOException {
        switch (field % 4) {
            case 0 -> {
                out.append("{\n");
                p.enter("Nested");
                message(p, out);
                p.exit();
                out.append('}');
            }
            case 1 -> out.append(HexFormat.of().formatHex(p.readBytes()));
            case 2 -> {
                long n = p.readLength();
                long end = p.position() + n;
                out.append('[');
                while (p.position() < end) {
                    out.append(p.readRawVarint(end)).append(',');
                }
                out.append(']');
            }
            default -> out.append(skip(p));
        }
    }

    private static String skip(ProtoReader p) throws IOException {
        p.skipField();
        return "skipped";
    }
}
