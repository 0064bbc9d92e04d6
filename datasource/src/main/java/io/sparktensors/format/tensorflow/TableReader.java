package io.sparktensors.format.tensorflow;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.LittleEndian;
import io.sparktensors.format.proto.ArraySource;
import io.sparktensors.format.proto.ByteSource;
import io.sparktensors.format.proto.Varint;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Reads the entries of a TensorFlow table (the LevelDB-style sorted string table of a bundle index) held
 * whole in memory. The table ends with a 48-byte footer: the metaindex and index block handles as varints,
 * zero padding and an 8-byte magic number. The index block maps separator keys to the data blocks in file
 * order. Every block is a run of prefix-compressed entries (shared key length, unshared key length, value
 * length, key suffix, value), an array of restart offsets where a full key starts, and their count; a
 * 5-byte trailer follows it (compression type and the masked CRC32C of block and type).
 *
 * <p>Everything is checked before it is trusted: handles against the file, checksums, restart offsets,
 * key lengths against the previous key, keys strictly increasing, blocks in file order without overlap (so
 * work stays proportional to the file), the entry count and the bytes of all keys together.
 */
final class TableReader {
    static final int FOOTER_LENGTH = 48;
    /** TensorFlow's table magic number, stored little-endian in the last 8 bytes. */
    static final long MAGIC = 0xdb4775248b80fb57L;

    static final int BLOCK_TRAILER_LENGTH = 5;
    private static final int NO_COMPRESSION = 0;
    private static final int SNAPPY_COMPRESSION = 1;
    /** TensorFlow's checksum mask, so that a CRC stored inside checksummed data does not cancel out. */
    private static final int CRC_MASK_DELTA = 0xa282ead8;

    /** One entry: its full key and where its value lies in the table bytes. */
    record Entry(byte[] key, int valueOffset, int valueLength) {}

    private final String file;
    private final byte[] bytes;
    /** The same bytes as a source for {@link Varint#read}, positioned at each varint in turn. */
    private final ArraySource source;

    private final long maxEntries;
    private final long maxKeyBytes;
    private final List<Entry> entries = new ArrayList<>();
    private long keyBytes;

    private TableReader(String file, byte[] bytes, long maxEntries, long maxKeyBytes) {
        this.file = file;
        this.bytes = bytes;
        this.source = ByteSource.of(file, bytes, 0, bytes.length);
        this.maxEntries = maxEntries;
        this.maxKeyBytes = maxKeyBytes;
    }

    /**
     * The entries of the table {@code bytes}, in key order.
     *
     * @param maxEntries most entries allowed
     * @param maxKeyBytes most bytes of all keys together (they are expanded from their shared prefixes)
     */
    static List<Entry> read(String file, byte[] bytes, long maxEntries, long maxKeyBytes) throws IOException {
        TableReader reader = new TableReader(file, bytes, maxEntries, maxKeyBytes);
        reader.readAll();
        return reader.entries;
    }

    /** TensorFlow's masked CRC32C of {@code crc}. */
    static int mask(long crc) {
        int c = (int) crc;
        return ((c >>> 15) | (c << 17)) + CRC_MASK_DELTA;
    }

    private void readAll() throws IOException {
        if (bytes.length < FOOTER_LENGTH) {
            throw fault("the file has " + bytes.length + " bytes, fewer than the " + FOOTER_LENGTH
                    + "-byte footer of a TensorFlow table. It is truncated or not a checkpoint index.");
        }
        int footer = bytes.length - FOOTER_LENGTH;
        if (LittleEndian.getLong(bytes, bytes.length - 8) != MAGIC) {
            throw fault("the last 8 bytes are not the TensorFlow table magic number. The file is truncated or not "
                    + "a checkpoint index (a bundle's index is the file ending in .index).");
        }
        int[] cursor = {footer};
        readHandle(cursor, footer + FOOTER_LENGTH - 8, footer, "metaindex");
        long[] index = readHandle(cursor, footer + FOOTER_LENGTH - 8, footer, "index");
        int indexStart = (int) index[0];
        int indexEnd = checkedBlock(index, "index");
        List<long[]> dataBlocks = new ArrayList<>();
        forEachEntry(indexStart, indexEnd, "index", (key, valueOffset, valueLength) -> {
            int[] at = {valueOffset};
            dataBlocks.add(readHandle(at, valueOffset + valueLength, footer, "data"));
        });
        long previousEnd = 0;
        for (long[] handle : dataBlocks) {
            if (handle[0] < previousEnd) {
                throw fault("the index lists data blocks out of file order or overlapping (a block at " + handle[0]
                        + " starts before the previous one ends at " + previousEnd + ")");
            }
            int end = checkedBlock(handle, "data");
            previousEnd = end + BLOCK_TRAILER_LENGTH;
            forEachEntry((int) handle[0], end, "data", (key, valueOffset, valueLength) -> {
                if (!entries.isEmpty()
                        && Arrays.compareUnsigned(
                                        entries.get(entries.size() - 1).key(), key)
                                >= 0) {
                    throw fault("the keys are not in strictly increasing order (a key repeats or goes back)");
                }
                if (entries.size() >= maxEntries) {
                    throw fault("the index holds more than " + maxEntries + " entries. If the file is trusted, raise "
                            + "the read option maxTensors.");
                }
                entries.add(new Entry(key, valueOffset, valueLength));
            });
        }
    }

    /**
     * Decodes a block handle (varint offset, varint size) at {@code cursor[0]}, before {@code limit}, and
     * checks that the block and its trailer end by {@code tableEnd}.
     */
    private long[] readHandle(int[] cursor, int limit, int tableEnd, String kind) throws IOException {
        long offset = readVarint(cursor, limit, "the " + kind + " block handle");
        long size = readVarint(cursor, limit, "the " + kind + " block handle");
        if (offset < 0 || size < 0 || offset > tableEnd || size > tableEnd - offset - BLOCK_TRAILER_LENGTH) {
            throw fault("the " + kind + " block handle (offset " + Long.toUnsignedString(offset) + ", size "
                    + Long.toUnsignedString(size) + ") lies outside the " + tableEnd
                    + " bytes before the footer. The file is truncated or corrupt.");
        }
        return new long[] {offset, size};
    }

    /** Verifies the block's trailer and returns where its contents end. */
    private int checkedBlock(long[] handle, String kind) throws IOException {
        int start = (int) handle[0];
        int end = start + (int) handle[1];
        CRC32C crc = new CRC32C();
        crc.update(bytes, start, end - start + 1);
        if (mask(crc.getValue()) != (int) readUint32(end + 1)) {
            throw fault("the " + kind + " block at offset " + start + " fails its CRC32C checksum. The file is "
                    + "corrupt; copy it again from its source.");
        }
        int type = bytes[end] & 0xff;
        if (type == SNAPPY_COMPRESSION) {
            throw fault(
                    "the " + kind + " block at offset " + start + " is Snappy-compressed, which is not "
                            + "supported (TensorFlow writes bundle indexes uncompressed). Re-save the checkpoint with TensorFlow.");
        }
        if (type != NO_COMPRESSION) {
            throw fault("the " + kind + " block at offset " + start + " has the unknown compression type " + type);
        }
        return end;
    }

    /** What to do with each entry of a block. */
    private interface EntryVisitor {
        void visit(byte[] key, int valueOffset, int valueLength) throws IOException;
    }

    /** Walks the entries of the block contents {@code [start, end)}, checking the restart array on the way. */
    private void forEachEntry(int start, int end, String kind, EntryVisitor visitor) throws IOException {
        String where = "the " + kind + " block at offset " + start;
        if (end - start < 4) {
            throw fault(where + " is too short to hold its restart count");
        }
        long restarts = readUint32(end - 4);
        if (restarts > (end - start - 4) / 4) {
            throw fault(where + " declares " + restarts + " restart points, more than it can hold");
        }
        int restartArray = end - 4 - 4 * (int) restarts;
        int restart = 0;
        byte[] key = new byte[0];
        int pos = start;
        while (pos < restartArray) {
            boolean atRestart = restart < restarts && readUint32(restartArray + 4 * restart) == pos - start;
            if (pos == start && !atRestart) {
                throw fault(where + " does not have its first restart point at its first entry");
            }
            int[] cursor = {pos};
            long shared = readVarint32(cursor, restartArray, where);
            long unshared = readVarint32(cursor, restartArray, where);
            long valueLength = readVarint32(cursor, restartArray, where);
            if (shared > key.length || (atRestart && shared != 0)) {
                throw fault(where + " has an entry sharing " + shared + " key bytes with a previous key of "
                        + key.length + (atRestart ? " at a restart point, where keys are whole" : ""));
            }
            if (unshared + valueLength > restartArray - cursor[0]) {
                throw fault(where + " has an entry of " + unshared + " key and " + valueLength
                        + " value bytes that runs past its entries into the restart array");
            }
            keyBytes += shared + unshared;
            if (keyBytes > maxKeyBytes) {
                throw fault("the keys of the index take more than " + maxKeyBytes + " bytes. If the file is trusted, "
                        + "raise the read option maxHeaderBytes.");
            }
            byte[] next = Arrays.copyOf(key, (int) (shared + unshared));
            System.arraycopy(bytes, cursor[0], next, (int) shared, (int) unshared);
            key = next;
            visitor.visit(key, cursor[0] + (int) unshared, (int) valueLength);
            pos = cursor[0] + (int) (unshared + valueLength);
            if (atRestart) {
                restart++;
            }
        }
        boolean emptyBlock = pos == start && restarts == 1 && readUint32(restartArray) == 0;
        if (restart != restarts && !emptyBlock) {
            throw fault(where + " has restart offsets that point to no entry start (or are out of range)");
        }
    }

    private long readVarint32(int[] cursor, int limit, String where) throws IOException {
        long v = readVarint(cursor, limit, where);
        if (v < 0 || v > 0xffff_ffffL) {
            throw fault(where + " has a length that overflows 32 bits");
        }
        return v;
    }

    private long readVarint(int[] cursor, int limit, String where) throws IOException {
        source.seek(cursor[0]);
        long value = Varint.read(source, limit, what -> fault(where + ": " + what));
        cursor[0] = (int) source.position();
        return value;
    }

    private long readUint32(int at) {
        return LittleEndian.getUnsignedInt(bytes, at);
    }

    private MalformedTensorFileException fault(String what) {
        return new MalformedTensorFileException(file, null, what);
    }
}
