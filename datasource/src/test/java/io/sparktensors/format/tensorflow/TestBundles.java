package io.sparktensors.format.tensorflow;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.zip.CRC32C;

/**
 * Writes TensorFlow bundles for tests, by hand: protobuf fields, table blocks with prefix-compressed keys and
 * restart points, block trailers with masked CRC32C, the footer, and data shards. Written from the format
 * description, independent of the reader, so hostile variants can be made by changing one piece.
 */
final class TestBundles {
    static final int DT_FLOAT = 1;
    static final int DT_DOUBLE = 2;
    static final int DT_INT32 = 3;
    static final int DT_INT16 = 5;
    static final int DT_STRING = 7;
    static final int DT_COMPLEX64 = 8;
    static final int DT_INT64 = 9;
    static final int DT_BFLOAT16 = 14;
    static final int DT_RESOURCE = 20;

    private TestBundles() {}

    // ---- protobuf ----

    /** A protobuf message under construction. */
    static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(int field, long value) {
            rawVarint((long) field << 3);
            rawVarint(value);
            return this;
        }

        Proto fixed32(int field, int value) {
            rawVarint((long) field << 3 | 5);
            out.write(value);
            out.write(value >>> 8);
            out.write(value >>> 16);
            out.write(value >>> 24);
            return this;
        }

        Proto bytes(int field, byte[] value) {
            rawVarint((long) field << 3 | 2);
            rawVarint(value.length);
            out.writeBytes(value);
            return this;
        }

        Proto string(int field, String value) {
            return bytes(field, value.getBytes(StandardCharsets.UTF_8));
        }

        Proto message(int field, Proto value) {
            return bytes(field, value.build());
        }

        Proto raw(byte[] bytes) {
            out.writeBytes(bytes);
            return this;
        }

        Proto rawVarint(long v) {
            out.writeBytes(varintBytes(v));
            return this;
        }

        byte[] build() {
            return out.toByteArray();
        }
    }

    static byte[] varintBytes(long v) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while ((v & ~0x7fL) != 0) {
            out.write((int) (v & 0x7f) | 0x80);
            v >>>= 7;
        }
        out.write((int) v);
        return out.toByteArray();
    }

    static byte[] header(int numShards, boolean bigEndian) {
        return new Proto()
                .varint(1, numShards)
                .varint(2, bigEndian ? 1 : 0)
                .message(3, new Proto().varint(1, 1))
                .build();
    }

    static Proto shape(long... dims) {
        Proto shape = new Proto();
        for (long d : dims) {
            shape.message(2, new Proto().varint(1, d));
        }
        return shape;
    }

    static byte[] entryProto(int dtype, long[] dims, long shardId, long offset, long size, int maskedCrc) {
        return new Proto()
                .varint(1, dtype)
                .message(2, shape(dims))
                .varint(3, shardId)
                .varint(4, offset)
                .varint(5, size)
                .fixed32(6, maskedCrc)
                .build();
    }

    static int maskedCrc(byte[] b) {
        CRC32C crc = new CRC32C();
        crc.update(b);
        int c = (int) crc.getValue();
        return ((c >>> 15) | (c << 17)) + 0xa282ead8;
    }

    // ---- table ----

    /** Block contents: prefix-compressed entries, a full key every {@code restartInterval} entries. */
    static byte[] block(List<byte[][]> entries, int restartInterval) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<Integer> restarts = new ArrayList<>();
        byte[] previous = new byte[0];
        for (int i = 0; i < entries.size(); i++) {
            byte[] key = entries.get(i)[0];
            byte[] value = entries.get(i)[1];
            int shared = 0;
            if (i % restartInterval == 0) {
                restarts.add(out.size());
            } else {
                while (shared < previous.length && shared < key.length && previous[shared] == key[shared]) {
                    shared++;
                }
            }
            out.writeBytes(varintBytes(shared));
            out.writeBytes(varintBytes(key.length - shared));
            out.writeBytes(varintBytes(value.length));
            out.write(key, shared, key.length - shared);
            out.writeBytes(value);
            previous = key;
        }
        if (restarts.isEmpty()) {
            restarts.add(0);
        }
        for (int r : restarts) {
            out.writeBytes(uint32(r));
        }
        out.writeBytes(uint32(restarts.size()));
        return out.toByteArray();
    }

    /** A table of the given data block contents, each with a valid trailer, then metaindex, index and footer. */
    static byte[] table(List<byte[]> dataBlocks) {
        return table(dataBlocks, 0, index -> index);
    }

    /**
     * A table whose data blocks have the compression type {@code type} and whose index entries (separator
     * key, block handle) pass through {@code indexEdit} first.
     */
    static byte[] table(List<byte[]> dataBlocks, int type, UnaryOperator<List<byte[][]>> indexEdit) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<byte[][]> index = new ArrayList<>();
        for (int i = 0; i < dataBlocks.size(); i++) {
            byte[] handle = handle(out.size(), dataBlocks.get(i).length);
            writeBlock(out, dataBlocks.get(i), type);
            index.add(new byte[][] {("k" + (char) ('a' + i)).getBytes(StandardCharsets.UTF_8), handle});
        }
        byte[] metaindex = handle(out.size(), 8);
        writeBlock(out, block(List.of(), 16), 0);
        byte[] indexBlock = block(indexEdit.apply(index), 1);
        byte[] indexHandle = handle(out.size(), indexBlock.length);
        writeBlock(out, indexBlock, 0);
        byte[] footer = new byte[48];
        System.arraycopy(metaindex, 0, footer, 0, metaindex.length);
        System.arraycopy(indexHandle, 0, footer, metaindex.length, indexHandle.length);
        long magic = 0xdb4775248b80fb57L;
        for (int i = 0; i < 8; i++) {
            footer[40 + i] = (byte) (magic >>> (8 * i));
        }
        out.writeBytes(footer);
        return out.toByteArray();
    }

    /** Writes contents, the compression type and the masked CRC32C of both. */
    static void writeBlock(ByteArrayOutputStream out, byte[] contents, int type) {
        byte[] withType = Arrays.copyOf(contents, contents.length + 1);
        withType[contents.length] = (byte) type;
        out.writeBytes(withType);
        out.writeBytes(uint32(maskedCrc(withType)));
    }

    static byte[] handle(long offset, long size) {
        byte[] a = varintBytes(offset);
        byte[] b = varintBytes(size);
        byte[] h = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, h, a.length, b.length);
        return h;
    }

    static byte[] uint32(int v) {
        return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
    }

    // ---- bundle ----

    /** A bundle: header, entries in key order, and one data shard. */
    static final class Bundle {
        final TreeMap<byte[], byte[]> entries = new TreeMap<>(Arrays::compareUnsigned);
        final ByteArrayOutputStream shard = new ByteArrayOutputStream();
        int numShards = 1;
        boolean bigEndian;
        int restartInterval = 16;
        int entriesPerBlock = Integer.MAX_VALUE;

        /** Adds a tensor whose stored bytes are {@code stored}, appended to shard 0. */
        Bundle tensor(String key, int dtype, long[] dims, byte[] stored) {
            int offset = shard.size();
            shard.writeBytes(stored);
            return entry(key, entryProto(dtype, dims, 0, offset, stored.length, maskedCrc(stored)));
        }

        Bundle entry(String key, byte[] entryProto) {
            return entry(key.getBytes(StandardCharsets.UTF_8), entryProto);
        }

        Bundle entry(byte[] key, byte[] entryProto) {
            entries.put(key, entryProto);
            return this;
        }

        /**
         * The string tensor holding one string, as TensorFlow encodes it: varint length, masked CRC32C of the
         * length as a 4-byte integer, the string; the entry's checksum covers that integer, not the varint.
         */
        Bundle stringScalar(String key, byte[] value) {
            byte[] lengthInt = ByteBuffer.allocate(4)
                    .order(bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN)
                    .putInt(value.length)
                    .array();
            int lengthCrc = maskedCrc(lengthInt);
            byte[] storedCrc = ByteBuffer.allocate(4)
                    .order(bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN)
                    .putInt(lengthCrc)
                    .array();
            ByteArrayOutputStream stored = new ByteArrayOutputStream();
            stored.writeBytes(varintBytes(value.length));
            stored.writeBytes(storedCrc);
            stored.writeBytes(value);
            ByteArrayOutputStream checked = new ByteArrayOutputStream();
            checked.writeBytes(lengthInt);
            checked.writeBytes(storedCrc);
            checked.writeBytes(value);
            int offset = shard.size();
            shard.writeBytes(stored.toByteArray());
            return entry(
                    key,
                    entryProto(DT_STRING, new long[0], 0, offset, stored.size(), maskedCrc(checked.toByteArray())));
        }

        /** The index bytes, entries split into blocks of {@code entriesPerBlock}. */
        byte[] index() {
            List<byte[][]> all = new ArrayList<>();
            all.add(new byte[][] {new byte[0], header(numShards, bigEndian)});
            for (Map.Entry<byte[], byte[]> e : entries.entrySet()) {
                all.add(new byte[][] {e.getKey(), e.getValue()});
            }
            List<byte[]> blocks = new ArrayList<>();
            for (int i = 0; i < all.size(); i += entriesPerBlock) {
                blocks.add(block(all.subList(i, Math.min(all.size(), i + entriesPerBlock)), restartInterval));
            }
            return table(blocks);
        }

        /** Writes {@code prefix.index} and its shard into {@code dir}; returns the index path. */
        Path write(Path dir, String prefix) {
            return write(dir, prefix, index());
        }

        Path write(Path dir, String prefix, byte[] index) {
            try {
                Path path = dir.resolve(prefix + ".index");
                Files.write(path, index);
                Files.write(
                        dir.resolve(String.format("%s.data-%05d-of-%05d", prefix, 0, numShards)), shard.toByteArray());
                return path;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
