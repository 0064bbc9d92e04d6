package io.sparktensors.format.zip;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.LittleEndian;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.io.SeekableInput;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The central directory of a zip archive, read with positioned reads only: the end-of-central-directory
 * record (and its ZIP64 locator and record), the directory itself, and each member's local header (for the
 * offset of its data). Bounded by {@link ReadLimits}: at most {@code maxTensors} members and a directory of
 * at most {@code maxHeaderBytes}.
 *
 * <p>Refuses what a safe reader must not follow: multi-disk archives, encrypted members, duplicate names,
 * names that are absolute or climb out with {@code ..} (zip path traversal), names that are not UTF-8, and
 * members whose ranges leave the file, overlap each other or the directory. Immutable once read.
 */
public final class ZipDirectory {
    private static final int LOCAL_SIG = 0x04034b50;
    private static final int CENTRAL_SIG = 0x02014b50;
    private static final int END_SIG = 0x06054b50;
    private static final int ZIP64_END_SIG = 0x06064b50;
    private static final int ZIP64_LOCATOR_SIG = 0x07064b50;
    private static final int END_SIZE = 22;
    private static final int ZIP64_LOCATOR_SIZE = 20;
    private static final int ZIP64_END_SIZE = 56;
    private static final int CENTRAL_SIZE = 46;
    private static final int LOCAL_SIZE = 30;
    /** The end record may be followed by a comment of at most this many bytes (its length is 16 bits). */
    private static final int MAX_COMMENT = 0xffff;

    private static final int ZIP64_EXTRA_ID = 0x0001;
    /** Compressed bytes fed to the inflater per read. */
    private static final int INFLATE_READ_BYTES = 64 * 1024;

    private final String location;
    private final Map<String, ZipMember> members;

    private ZipDirectory(String location, Map<String, ZipMember> members) {
        this.location = location;
        this.members = Collections.unmodifiableMap(members);
    }

    /** Whether {@code start} (the first bytes of a file) begins with a zip local header. */
    public static boolean looksLikeZip(byte[] start) {
        return start.length >= 4 && LittleEndian.getInt(start, 0) == LOCAL_SIG;
    }

    /**
     * Reads the directory of the archive {@code in}, which is {@code fileLength} bytes long.
     *
     * @throws MalformedTensorFileException when the archive is corrupt, truncated, hostile or over a limit
     */
    public static ZipDirectory read(String location, SeekableInput in, long fileLength, ReadLimits limits)
            throws IOException {
        try {
            return new Reader(location, in, fileLength, limits).read();
        } catch (EOFException e) {
            throw new MalformedTensorFileException(
                    location,
                    null,
                    "the zip archive ends early (" + e.getMessage() + "). The file is truncated; copy it again.",
                    e);
        }
    }

    /** The members in directory order. */
    public List<ZipMember> members() {
        return List.copyOf(members.values());
    }

    /** The member named {@code name}, or null. */
    public ZipMember member(String name) {
        return members.get(name);
    }

    /**
     * The contents of {@code member}, stored or deflated, checked against its size and CRC-32. Inflating stops
     * and refuses as soon as the output exceeds {@code maxBytes} or the declared size (compression bombs).
     *
     * @throws MalformedTensorFileException when the member is larger than {@code maxBytes}, uses another
     *     method, or its data is corrupt
     */
    public byte[] contents(SeekableInput in, ZipMember member, long maxBytes) throws IOException {
        String name = MalformedTensorFileException.printable(member.name());
        long bound = Math.min(maxBytes, Integer.MAX_VALUE - 8L);
        if (member.uncompressedSize() > bound) {
            throw new MalformedTensorFileException(
                    location,
                    null,
                    "the archive member '" + name + "' declares "
                            + member.uncompressedSize() + " bytes, over the limit of " + bound
                            + " bytes. If the file is trusted, raise the read option maxHeaderBytes.");
        }
        byte[] out;
        try {
            if (member.method() == ZipMember.STORED) {
                out = new byte[(int) member.uncompressedSize()];
                in.readFully(member.dataOffset(), out, 0, out.length);
            } else if (member.method() == ZipMember.DEFLATED) {
                out = inflate(in, member, name, bound);
            } else {
                throw new MalformedTensorFileException(
                        location,
                        null,
                        "the archive member '" + name + "' uses compression method " + member.method()
                                + "; only stored (0) and deflated (8) are read.");
            }
        } catch (EOFException e) {
            throw new MalformedTensorFileException(
                    location,
                    null,
                    "the archive member '" + name
                            + "' ends beyond the end of the file. The file is truncated; copy it again.",
                    e);
        }
        CRC32 crc = new CRC32();
        crc.update(out);
        if (crc.getValue() != member.crc32()) {
            throw new MalformedTensorFileException(
                    location,
                    null,
                    "the archive member '" + name + "' fails its CRC-32 check. The file is corrupt; copy it again.");
        }
        return out;
    }

    private byte[] inflate(SeekableInput in, ZipMember member, String name, long bound) throws IOException {
        long limit = Math.min(bound, member.uncompressedSize());
        Inflater inflater = new Inflater(true);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(limit, INFLATE_READ_BYTES));
            byte[] chunk = new byte[INFLATE_READ_BYTES];
            byte[] produced = new byte[INFLATE_READ_BYTES];
            long position = member.dataOffset();
            long end = member.dataOffset() + member.compressedSize();
            while (!inflater.finished()) {
                if (inflater.needsInput()) {
                    if (position >= end) {
                        throw corruptDeflate(name, null);
                    }
                    int n = (int) Math.min(chunk.length, end - position);
                    in.readFully(position, chunk, 0, n);
                    position += n;
                    inflater.setInput(chunk, 0, n);
                }
                int n = inflater.inflate(produced);
                if (n == 0 && (inflater.needsDictionary() || (!inflater.needsInput() && !inflater.finished()))) {
                    throw corruptDeflate(name, null);
                }
                if (out.size() + (long) n > limit) {
                    throw new MalformedTensorFileException(
                            location,
                            null,
                            "the archive member '" + name
                                    + "' inflates to more than " + limit + " bytes (its declared size is "
                                    + member.uncompressedSize()
                                    + "): a corrupt file or a compression bomb; it was not read.");
                }
                out.write(produced, 0, n);
            }
            if (out.size() != member.uncompressedSize()) {
                throw corruptDeflate(
                        name, "it inflates to " + out.size() + " bytes, not the declared " + member.uncompressedSize());
            }
            return out.toByteArray();
        } catch (DataFormatException e) {
            throw corruptDeflate(name, e.getMessage());
        } finally {
            inflater.end();
        }
    }

    private MalformedTensorFileException corruptDeflate(String name, String detail) {
        return new MalformedTensorFileException(
                location,
                null,
                "the deflated archive member '" + name + "' is corrupt" + (detail == null ? "" : " (" + detail + ")")
                        + ". Copy the file again.");
    }

    /** One pass over an archive's directory. */
    private static final class Reader {
        private final String location;
        private final SeekableInput in;
        private final long fileLength;
        private final ReadLimits limits;

        Reader(String location, SeekableInput in, long fileLength, ReadLimits limits) {
            this.location = location;
            this.in = in;
            this.fileLength = fileLength;
            this.limits = limits;
        }

        ZipDirectory read() throws IOException {
            int tail = (int) Math.min(fileLength, END_SIZE + MAX_COMMENT);
            byte[] buf = new byte[tail];
            in.readFully(fileLength - tail, buf, 0, tail);
            int at = findEnd(buf);
            long endPosition = fileLength - tail + at;
            if (LittleEndian.getUnsignedShort(buf, at + 4) != 0 || LittleEndian.getUnsignedShort(buf, at + 6) != 0) {
                throw fault("it spans several disks; only single-file archives are read");
            }
            long count = LittleEndian.getUnsignedShort(buf, at + 10);
            long size = LittleEndian.getUnsignedInt(buf, at + 12);
            long offset = LittleEndian.getUnsignedInt(buf, at + 16);
            long directoryEnd = endPosition;
            if (count == 0xffff || size == 0xffffffffL || offset == 0xffffffffL) {
                long[] zip64 = readZip64End(endPosition);
                count = zip64[0];
                size = zip64[1];
                offset = zip64[2];
                directoryEnd = zip64[3];
            }
            if (count > limits.maxTensors()) {
                throw fault("it has " + count + " members, over the limit of " + limits.maxTensors()
                        + ". If the file is trusted, raise the read option maxTensors.");
            }
            if (size > limits.maxHeaderBytes() || size > Integer.MAX_VALUE - 8) {
                throw fault(
                        "its central directory of " + size + " bytes is over the limit of " + limits.maxHeaderBytes()
                                + " bytes. If the file is trusted, raise the read option maxHeaderBytes.");
            }
            if (offset < 0 || offset + size > directoryEnd) {
                throw fault("its central directory [" + offset + ", " + (offset + size)
                        + ") does not end before the end record at " + directoryEnd
                        + ". The file is corrupt or truncated.");
            }
            byte[] directory = new byte[(int) size];
            in.readFully(offset, directory, 0, directory.length);
            Map<String, ZipMember> members = parseDirectory(directory, (int) count, offset);
            return new ZipDirectory(location, members);
        }

        private int findEnd(byte[] buf) throws MalformedTensorFileException {
            for (int at = buf.length - END_SIZE; at >= 0; at--) {
                if (LittleEndian.getInt(buf, at) == END_SIG
                        && at + END_SIZE + LittleEndian.getUnsignedShort(buf, at + 20) == buf.length) {
                    return at;
                }
            }
            throw fault("no end-of-central-directory record was found. It is not a zip archive, or it is truncated.");
        }

        /** Returns {entries, directory size, directory offset, record position}. */
        private long[] readZip64End(long endPosition) throws IOException {
            if (endPosition < ZIP64_LOCATOR_SIZE) {
                throw fault("its end record asks for ZIP64 but there is no ZIP64 locator before it");
            }
            byte[] locator = new byte[ZIP64_LOCATOR_SIZE];
            in.readFully(endPosition - ZIP64_LOCATOR_SIZE, locator, 0, locator.length);
            if (LittleEndian.getInt(locator, 0) != ZIP64_LOCATOR_SIG) {
                throw fault("its end record asks for ZIP64 but there is no ZIP64 locator before it");
            }
            long recordPosition = LittleEndian.getLong(locator, 8);
            if (LittleEndian.getInt(locator, 4) != 0 || LittleEndian.getInt(locator, 16) > 1) {
                throw fault("it spans several disks; only single-file archives are read");
            }
            if (recordPosition < 0 || recordPosition > endPosition - ZIP64_LOCATOR_SIZE - ZIP64_END_SIZE) {
                throw fault("its ZIP64 locator points to " + recordPosition + ", outside the file");
            }
            byte[] record = new byte[ZIP64_END_SIZE];
            in.readFully(recordPosition, record, 0, record.length);
            if (LittleEndian.getInt(record, 0) != ZIP64_END_SIG) {
                throw fault("its ZIP64 locator does not point to a ZIP64 end record");
            }
            if (LittleEndian.getInt(record, 16) != 0 || LittleEndian.getInt(record, 20) != 0) {
                throw fault("it spans several disks; only single-file archives are read");
            }
            long count = LittleEndian.getLong(record, 32);
            long size = LittleEndian.getLong(record, 40);
            long offset = LittleEndian.getLong(record, 48);
            if (count < 0 || size < 0 || offset < 0) {
                throw fault("its ZIP64 end record holds sizes beyond 2^63");
            }
            return new long[] {count, size, offset, recordPosition};
        }

        private Map<String, ZipMember> parseDirectory(byte[] dir, int count, long directoryOffset) throws IOException {
            Map<String, ZipMember> members = new LinkedHashMap<>();
            List<long[]> ranges = new ArrayList<>(); // {local header start, data end}
            int at = 0;
            for (int i = 0; i < count; i++) {
                if (at + CENTRAL_SIZE > dir.length || LittleEndian.getInt(dir, at) != CENTRAL_SIG) {
                    throw fault("central directory entry " + i + " of " + count + " is missing or corrupt");
                }
                int flags = LittleEndian.getUnsignedShort(dir, at + 8);
                int method = LittleEndian.getUnsignedShort(dir, at + 10);
                long crc = LittleEndian.getUnsignedInt(dir, at + 16);
                long compressed = LittleEndian.getUnsignedInt(dir, at + 20);
                long uncompressed = LittleEndian.getUnsignedInt(dir, at + 24);
                int nameLength = LittleEndian.getUnsignedShort(dir, at + 28);
                int extraLength = LittleEndian.getUnsignedShort(dir, at + 30);
                int commentLength = LittleEndian.getUnsignedShort(dir, at + 32);
                int disk = LittleEndian.getUnsignedShort(dir, at + 34);
                long localOffset = LittleEndian.getUnsignedInt(dir, at + 42);
                int next = at + CENTRAL_SIZE + nameLength + extraLength + commentLength;
                if (next > dir.length) {
                    throw fault("central directory entry " + i + " runs past the end of the directory");
                }
                byte[] nameBytes = Arrays.copyOfRange(dir, at + CENTRAL_SIZE, at + CENTRAL_SIZE + nameLength);
                String name = checkName(decodeName(nameBytes));
                // ZIP64 extra: the 64-bit values, in this order, of exactly the fields saturated above.
                int extraAt = at + CENTRAL_SIZE + nameLength;
                int extraEnd = extraAt + extraLength;
                while (extraAt + 4 <= extraEnd) {
                    int id = LittleEndian.getUnsignedShort(dir, extraAt);
                    int dataSize = LittleEndian.getUnsignedShort(dir, extraAt + 2);
                    int p = extraAt + 4;
                    if (p + dataSize > extraEnd) {
                        throw fault("the extra field of member '" + printable(name) + "' is corrupt");
                    }
                    if (id == ZIP64_EXTRA_ID) {
                        int q = p;
                        if (uncompressed == 0xffffffffL) {
                            uncompressed = zip64Field(dir, q, p + dataSize, name);
                            q += 8;
                        }
                        if (compressed == 0xffffffffL) {
                            compressed = zip64Field(dir, q, p + dataSize, name);
                            q += 8;
                        }
                        if (localOffset == 0xffffffffL) {
                            localOffset = zip64Field(dir, q, p + dataSize, name);
                            q += 8;
                        }
                        if (disk == 0xffff) {
                            disk = q + 4 <= p + dataSize ? (int) LittleEndian.getInt(dir, q) : -1;
                        }
                    }
                    extraAt = p + dataSize;
                }
                if (disk != 0) {
                    throw fault("member '" + printable(name)
                            + "' lies on another disk; only single-file archives are read");
                }
                if ((flags & 1) != 0 || method == 99) {
                    throw fault("member '" + printable(name) + "' is encrypted; encrypted archives are not read");
                }
                if (method == ZipMember.STORED && compressed != uncompressed) {
                    throw fault("stored member '" + printable(name) + "' has compressed size " + compressed
                            + " but uncompressed size " + uncompressed);
                }
                long dataOffset = readLocalHeader(localOffset, nameBytes, name, directoryOffset);
                if (compressed > directoryOffset - dataOffset) {
                    throw fault("member '" + printable(name) + "' [" + dataOffset + ", +" + compressed
                            + ") runs into the central directory at " + directoryOffset
                            + ". The file is corrupt or truncated.");
                }
                if (members.put(name, new ZipMember(name, method, compressed, uncompressed, crc, dataOffset)) != null) {
                    throw fault("the member name '" + printable(name) + "' appears twice");
                }
                ranges.add(new long[] {localOffset, dataOffset + compressed});
                at = next;
            }
            checkNoOverlap(ranges);
            return members;
        }

        private long zip64Field(byte[] dir, int at, int end, String name) throws MalformedTensorFileException {
            if (at + 8 > end) {
                throw fault("the ZIP64 extra field of member '" + printable(name) + "' is too short");
            }
            long v = LittleEndian.getLong(dir, at);
            if (v < 0) {
                throw fault("member '" + printable(name) + "' declares a size or offset beyond 2^63");
            }
            return v;
        }

        /** Checks the local header matches the directory and returns the offset of the member's data. */
        private long readLocalHeader(long localOffset, byte[] nameBytes, String name, long directoryOffset)
                throws IOException {
            if (localOffset > directoryOffset - LOCAL_SIZE - nameBytes.length) {
                throw fault("member '" + printable(name) + "' has its local header at " + localOffset
                        + ", not before the central directory at " + directoryOffset);
            }
            byte[] local = new byte[LOCAL_SIZE + nameBytes.length];
            in.readFully(localOffset, local, 0, local.length);
            if (LittleEndian.getInt(local, 0) != LOCAL_SIG) {
                throw fault("member '" + printable(name) + "' has no local header at " + localOffset);
            }
            int localNameLength = LittleEndian.getUnsignedShort(local, 26);
            int localExtraLength = LittleEndian.getUnsignedShort(local, 28);
            if (localNameLength != nameBytes.length
                    || !Arrays.equals(local, LOCAL_SIZE, local.length, nameBytes, 0, nameBytes.length)) {
                throw fault("member '" + printable(name) + "' has another name in its local header");
            }
            return localOffset + LOCAL_SIZE + localNameLength + localExtraLength;
        }

        private void checkNoOverlap(List<long[]> ranges) throws MalformedTensorFileException {
            ranges.sort(Comparator.comparingLong(r -> r[0]));
            for (int i = 1; i < ranges.size(); i++) {
                if (ranges.get(i)[0] < ranges.get(i - 1)[1]) {
                    throw fault("two members overlap at offset " + ranges.get(i)[0]
                            + "; a well-formed archive stores each member once");
                }
            }
        }

        private String decodeName(byte[] bytes) throws MalformedTensorFileException {
            try {
                return StandardCharsets.UTF_8
                        .newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(bytes))
                        .toString();
            } catch (CharacterCodingException e) {
                throw fault("a member name is not UTF-8; only UTF-8 (or ASCII) names are read");
            }
        }

        private String checkName(String name) throws MalformedTensorFileException {
            boolean absolute =
                    name.startsWith("/") || name.startsWith("\\") || (name.length() >= 2 && name.charAt(1) == ':');
            boolean climbs = Arrays.asList(name.split("[/\\\\]")).contains("..");
            if (name.isEmpty() || absolute || climbs || name.indexOf('\0') >= 0) {
                throw fault("the member name '" + printable(name) + "' is empty, absolute or climbs out with '..'"
                        + " (zip path traversal); such an archive is refused");
            }
            return name;
        }

        private MalformedTensorFileException fault(String what) {
            return new MalformedTensorFileException(location, null, "the zip archive is malformed: " + what + ".");
        }
    }

    private static String printable(String s) {
        return MalformedTensorFileException.printable(s);
    }
}
