package io.sparktensors.format.proto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.StructureInput;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import io.sparktensors.testing.BytesInputFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class ProtoReaderTest {
    private static final String FILE = "test.bin";

    /** What a test does with a reader; run once per byte source. */
    private interface Read<T> {
        T apply(ProtoReader p) throws IOException;
    }

    // Encoding, byte by byte, so malformed input is as easy to write as valid input.

    private static byte[] varint(long v) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
        return out.toByteArray();
    }

    private static byte[] tag(long field, int wire) {
        return varint(field << 3 | wire);
    }

    private static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static byte[] bytes(int... b) {
        byte[] out = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = (byte) b[i];
        }
        return out;
    }

    private static byte[] len(int field, byte[] payload) {
        return cat(tag(field, ProtoReader.LEN), varint(payload.length), payload);
    }

    /** Runs {@code read} over {@code bytes} through both sources and checks they agree. */
    private static <T> T both(byte[] bytes, int maxNesting, Read<T> read) throws IOException {
        T inMemory = read.apply(reader(ByteSource.of(FILE, bytes, 0, bytes.length), bytes.length, maxNesting));
        BytesInputFile file = new BytesInputFile(FILE, bytes);
        try (SeekableInput in = file.open(ReadPolicy.RANDOM)) {
            ByteSource streaming = ByteSource.streaming(new StructureInput(in, FILE, bytes.length, 1 << 20));
            T streamed = read.apply(reader(streaming, bytes.length, maxNesting));
            assertEquals(inMemory, streamed, "the sources disagree");
        }
        return inMemory;
    }

    private static <T> T both(byte[] bytes, Read<T> read) throws IOException {
        return both(bytes, 64, read);
    }

    /** The fault {@code read} meets through both sources, which must be the same. */
    private static String fault(byte[] bytes, int maxNesting, Read<?> read) throws IOException {
        return both(
                bytes,
                maxNesting,
                p -> assertThrows(MalformedTensorFileException.class, () -> read.apply(p))
                        .getMessage());
    }

    private static String fault(byte[] bytes, Read<?> read) throws IOException {
        return fault(bytes, 64, read);
    }

    private static ProtoReader reader(ByteSource in, long end, int maxNesting) {
        return new ProtoReader(in, FILE, "t", "TestProto", end, maxNesting, "Advice.");
    }

    private static long readOneVarint(ProtoReader p) throws IOException {
        assertTrue(p.next());
        long v = p.readVarint();
        assertFalse(p.next());
        return v;
    }

    @Test
    void varintsOfOneToTenBytes() throws IOException {
        List<Long> values = new ArrayList<>(List.of(0L, 1L, 127L, -1L, Long.MIN_VALUE, Long.MAX_VALUE));
        for (int bits = 7; bits < 64; bits += 7) {
            values.add((1L << bits) - 1);
            values.add(1L << bits);
        }
        TreeSet<Integer> lengths = new TreeSet<>();
        for (long v : values) {
            byte[] encoded = varint(v);
            lengths.add(encoded.length);
            assertEquals(v, both(cat(tag(1, 0), encoded), ProtoReaderTest::readOneVarint), Long.toHexString(v));
        }
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), List.copyOf(lengths));
        // Padded encodings (a zero high group) are valid protobuf, as long as they stay within 10 bytes.
        assertEquals(1L, both(cat(tag(1, 0), bytes(0x81, 0x80, 0x80, 0x00)), ProtoReaderTest::readOneVarint));
    }

    @Test
    void refusesVarintsLongerThanTenBytes() throws IOException {
        byte[] eleven = cat(tag(1, 0), bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00));
        assertTrue(fault(eleven, ProtoReaderTest::readOneVarint).contains("overflows 64 bits"));
    }

    @Test
    void refusesVarintsAbove64Bits() throws IOException {
        byte[] max = cat(tag(1, 0), bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01));
        assertEquals(-1L, both(max, ProtoReaderTest::readOneVarint));
        byte[] above = cat(tag(1, 0), bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02));
        String e = fault(above, ProtoReaderTest::readOneVarint);
        assertTrue(e.contains("a varint overflows 64 bits (at byte 1)"), e);
    }

    /** A message with every wire type, a nested message and a string, as its top-level fields. */
    private static List<byte[]> sampleFields() {
        byte[] nested = cat(tag(2, 0), varint(300), len(1, "in".getBytes(StandardCharsets.UTF_8)));
        return List.of(
                cat(tag(2, 0), varint(-5)),
                cat(tag(4, 5), bytes(1, 2, 3, 4)),
                cat(tag(6, 1), bytes(1, 2, 3, 4, 5, 6, 7, 8)),
                len(8, nested),
                len(9, "hello".getBytes()),
                len(10, cat(varint(1), varint(1 << 20))),
                cat(tag(11, 5), bytes(9, 9, 9, 9)));
    }

    @Test
    void truncationAtEveryByteIsRefused() throws IOException {
        List<byte[]> fields = sampleFields();
        byte[] whole = cat(fields.toArray(byte[][]::new));
        TreeSet<Integer> boundaries = new TreeSet<>();
        int at = 0;
        boundaries.add(at);
        for (byte[] f : fields) {
            at += f.length;
            boundaries.add(at);
        }
        ProtoWalk.Outcome full = ProtoWalk.inMemory(whole, 64);
        assertNull(full.fault(), full.fault());
        assertTrue(full.transcript().contains("2 2/0 300"), full.transcript());
        for (int cut = 0; cut < whole.length; cut++) {
            byte[] prefix = Arrays.copyOf(whole, cut);
            ProtoWalk.Outcome streamed = ProtoWalk.streaming(prefix, 64);
            assertEquals(ProtoWalk.inMemory(prefix, 64), streamed, "cut at " + cut);
            if (boundaries.contains(cut)) {
                assertNull(streamed.fault(), "cut at field boundary " + cut + ": " + streamed.fault());
            } else {
                assertNotNull(streamed.fault(), "cut inside a field at " + cut);
                assertTrue(streamed.fault().contains("runs past the end"), streamed.fault());
            }
        }
    }

    @Test
    void lengthsPastTheEnclosingMessageAreRefused() throws IOException {
        // The inner field claims 10 bytes; the file has them, but its message holds only 3 after the prefix.
        byte[] inner = cat(tag(1, ProtoReader.LEN), varint(10), bytes(1, 2, 3));
        byte[] bytes = cat(len(1, inner), new byte[20]);
        String e = fault(bytes, p -> {
            p.next();
            p.enter("Inner");
            p.next();
            return p.readBytes();
        });
        assertTrue(
                e.contains("its Inner is malformed: the field at byte 3 declares 10 bytes but only 3 remain: it "
                        + "runs past the end of its message at byte 7"),
                e);
        String huge = fault(cat(tag(1, ProtoReader.LEN), varint(Long.MAX_VALUE)), p -> {
            p.next();
            return p.readLength();
        });
        assertTrue(huge.contains("runs past the end"), huge);
        String negative = fault(cat(tag(1, ProtoReader.LEN), varint(-1)), p -> {
            p.next();
            return p.readLength();
        });
        assertTrue(negative.contains("declares 18446744073709551615 bytes"), negative);
        String fixed = fault(cat(len(1, cat(tag(2, 5), bytes(1, 2))), bytes(3, 4)), p -> {
            p.next();
            p.enter("Inner");
            p.next();
            return p.readFixed32();
        });
        assertTrue(fixed.contains("the 4-byte field at byte 3 runs past the end of its message at byte 5"), fixed);
    }

    @Test
    void invalidTagsAreRefused() throws IOException {
        for (int wire : new int[] {3, 4, 6, 7}) {
            String e = fault(cat(tag(1, wire), new byte[8]), ProtoReader::next);
            assertTrue(e.contains("is invalid (field 1, wire type " + wire + ")"), e);
        }
        String zero = fault(cat(tag(0, 0), varint(1)), ProtoReader::next);
        assertTrue(zero.contains("the tag 0 at byte 0 is invalid (field 0"), zero);
        String tooLarge = fault(cat(tag(ProtoReader.MAX_FIELD + 1L, 0), varint(1)), ProtoReader::next);
        assertTrue(tooLarge.contains("is invalid (field 536870912"), tooLarge);
        assertEquals(ProtoReader.MAX_FIELD, (int) both(cat(tag(ProtoReader.MAX_FIELD, 0), varint(1)), p -> {
            p.next();
            return p.field();
        }));
    }

    @Test
    void wireTypesMustFitTheRead() throws IOException {
        byte[] varintField = cat(tag(3, 0), varint(1));
        String e = fault(varintField, p -> {
            p.next();
            return p.readBytes();
        });
        assertTrue(e.contains("field 3 at byte 0 has wire type 0 where 2 belongs"), e);
        String named = fault(varintField, p -> {
            p.next();
            p.enter("Child");
            return null;
        });
        assertTrue(named.contains("the Child field (3) at byte 0 has wire type 0 where 2 belongs"), named);
        String fixed = fault(varintField, p -> {
            p.next();
            return p.readFixed64();
        });
        assertTrue(fixed.contains("where 1 belongs"), fixed);
    }

    @Test
    void nestingIsLimited() throws IOException {
        byte[] m = cat(tag(1, 0), varint(7));
        for (int i = 0; i < 5; i++) {
            m = len(1, m);
        }
        byte[] six = m;
        Read<Long> descend = p -> {
            while (p.next() && p.wireType() == ProtoReader.LEN) {
                p.enter("Level");
            }
            return p.readVarint();
        };
        assertEquals(7L, both(six, 6, descend));
        String e = fault(six, 5, descend);
        assertTrue(e.contains("its messages nest deeper than the limit of 5 (a Level at byte 8 in a Level)"), e);
        assertTrue(e.contains("raise the read option maxNesting"), e);
    }

    @Test
    void fixedValues() throws IOException {
        byte[] bytes = cat(
                tag(1, 5),
                bytes(0x78, 0x56, 0x34, 0x12),
                tag(2, 1),
                bytes(0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
                tag(3, 5),
                bytes(0xff, 0xff, 0xff, 0xff));
        assertEquals(List.of(0x12345678L, -2L, -1L), both(bytes, p -> {
            List<Long> out = new ArrayList<>();
            while (p.next()) {
                out.add(p.wireType() == ProtoReader.FIXED32 ? p.readFixed32() : p.readFixed64());
            }
            return out;
        }));
    }

    @Test
    void skipsEachWireType() throws IOException {
        byte[] bytes = cat(
                tag(1, 0),
                varint(-1),
                tag(2, 1),
                new byte[8],
                tag(3, 2),
                varint(3),
                bytes(1, 2, 3),
                tag(4, 5),
                new byte[4],
                len(5, len(1, new byte[2])),
                tag(6, 0),
                varint(42));
        assertEquals(42L, (long) both(bytes, p -> {
            while (p.next()) {
                if (p.field() == 6) {
                    long v = p.readVarint();
                    assertEquals(bytes.length, p.position());
                    return v;
                }
                p.skipField();
            }
            return null;
        }));
    }

    @Test
    void nestedMessagesEndWhereTheyDeclare() throws IOException {
        byte[] bytes = cat(len(1, cat(tag(1, 0), varint(5), tag(2, 0), varint(6))), tag(2, 0), varint(9));
        assertEquals(List.of(5L, 9L), both(bytes, p -> {
            List<Long> out = new ArrayList<>();
            p.next();
            p.enter("Inner");
            assertEquals(2, p.depth());
            p.next();
            out.add(p.readVarint());
            p.exit(); // skips field 2 of the inner message
            assertEquals(1, p.depth());
            p.next();
            out.add(p.readVarint());
            assertFalse(p.next());
            return out;
        }));
    }

    @Test
    void stringsAndBytes() throws IOException {
        byte[] bytes = cat(len(1, "grüße".getBytes(StandardCharsets.UTF_8)), len(2, bytes(0xff, 0xfe)));
        assertEquals("grüße", both(bytes, p -> {
            p.next();
            return p.readString();
        }));
        String e = fault(bytes, p -> {
            p.next();
            p.skipField();
            p.next();
            return p.readString();
        });
        assertTrue(e.contains("field 2 at byte 9 is not valid UTF-8 text"), e);
        assertEquals("fffe", both(bytes, p -> {
            p.next();
            p.skipField();
            p.next();
            return HexFormat.of().formatHex(p.readBytes());
        }));
    }

    @Test
    void faultsNameFileTensorMessageAndAdvice() throws IOException {
        String e = fault(bytes(0x80), ProtoReader::next);
        assertEquals(
                "Malformed tensor file 'test.bin', tensor 't': its TestProto is malformed: a varint at byte 0 "
                        + "runs past the end at byte 1. Advice.",
                e);
    }

    @Test
    void anArrayWindowReadsOnlyItsBytes() throws IOException {
        byte[] message = cat(tag(2, 0), varint(77));
        byte[] buf = cat(bytes(0xff, 0xff, 0xff), message, bytes(0xff, 0xff));
        ProtoReader p = reader(ByteSource.of(FILE, buf, 3, message.length), 3 + message.length, 4);
        assertTrue(p.next());
        assertEquals(77L, p.readVarint());
        assertEquals(3 + message.length, p.position());
        assertFalse(p.next());
        ArraySource window = ByteSource.of(FILE, buf, 3, message.length);
        window.seek(3 + message.length);
        assertThrows(MalformedTensorFileException.class, window::readByte);
        assertThrows(IndexOutOfBoundsException.class, () -> ByteSource.of(FILE, buf, 3, buf.length));
    }

    @Test
    void bothSourcesAgreeOnRandomBytes() {
        Random random = new Random(17);
        int faults = 0;
        for (int i = 0; i < 3000; i++) {
            byte[] bytes = new byte[random.nextInt(64)];
            random.nextBytes(bytes);
            // Bias towards small tags and lengths, so walks get past the first field.
            for (int j = 0; j < bytes.length; j += 1 + random.nextInt(4)) {
                bytes[j] &= 0x1f;
            }
            ProtoWalk.Outcome inMemory = ProtoWalk.inMemory(bytes, 4);
            assertEquals(
                    inMemory,
                    ProtoWalk.streaming(bytes, 4),
                    () -> HexFormat.of().formatHex(bytes));
            faults += inMemory.fault() == null ? 0 : 1;
        }
        assertTrue(faults > 0 && faults < 3000, "faults: " + faults);
    }

    @Test
    void varintStepsMatchTheRead() {
        long value = 0;
        int shift = 0;
        byte[] encoded = varint(-3);
        for (byte raw : encoded) {
            int b = raw & 0xff;
            assertFalse(Varint.overflows(shift, b));
            value = Varint.add(value, shift, b);
            shift += 7;
            if (Varint.last(b)) {
                break;
            }
        }
        assertEquals(-3L, value);
        assertEquals(Varint.MAX_BYTES * 7, shift);
        assertTrue(Varint.overflows(63, 2));
        assertTrue(Varint.overflows(63, 0x81));
    }
}
