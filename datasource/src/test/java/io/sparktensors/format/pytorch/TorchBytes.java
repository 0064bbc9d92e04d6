package io.sparktensors.format.pytorch;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/** Byte builders for hand-made torch.save files: pickles, zip archives and the legacy layout. */
public final class TorchBytes {
    private TorchBytes() {}

    /** A protocol 2 pickle, opcode by opcode. */
    public static final class Pickle {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        public Pickle proto() {
            return op(0x80, 2);
        }

        public Pickle op(int... bytes) {
            for (int b : bytes) {
                out.write(b);
            }
            return this;
        }

        public Pickle str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            op('X').le(b.length, 4);
            out.writeBytes(b);
            return this;
        }

        public Pickle global(String module, String name) {
            op('c');
            out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
            return this;
        }

        public Pickle integer(long v) {
            if (v >= 0 && v < 256) {
                return op('K', (int) v);
            }
            if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
                return op('J').le(v, 4);
            }
            return op(0x8a, 8).le(v, 8);
        }

        public Pickle tuple(long... values) {
            op('(');
            for (long v : values) {
                integer(v);
            }
            return op('t');
        }

        public Pickle le(long v, int width) {
            for (int i = 0; i < width; i++) {
                out.write((int) (v >>> (8 * i)));
            }
            return this;
        }

        /** {@code _rebuild_tensor_v2(storage(key, class, numel), offset, size, stride, False, OrderedDict())}. */
        public Pickle tensor(
                String storageClass, String key, long numel, long offset, long[] size, long[] stride, boolean legacy) {
            global("torch._utils", "_rebuild_tensor_v2").op('(');
            op('(').str("storage")
                    .global("torch", storageClass)
                    .str(key)
                    .str("cpu")
                    .integer(numel);
            if (legacy) {
                op('N');
            }
            op('t', 'Q').integer(offset).tuple(size).tuple(stride).op(0x89);
            global("collections", "OrderedDict").op(')', 'R');
            return op('t', 'R');
        }

        public byte[] bytes() {
            return out.toByteArray();
        }
    }

    /** A pickle of {"w": float tensor} over storage "0" of {@code numel} elements. */
    public static byte[] stateDict(long numel, long offset, long[] size, long[] stride, boolean legacy) {
        return new Pickle()
                .proto()
                .op('}', '(')
                .str("w")
                .tensor("FloatStorage", "0", numel, offset, size, stride, legacy)
                .op('u', '.')
                .bytes();
    }

    /** Little-endian floats. */
    public static byte[] floats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    /** A zip member to write. */
    public static final class Member {
        final String name;
        final byte[] contents;
        int method;
        int flags;
        long declaredSize = -1;

        public Member(String name, byte[] contents) {
            this.name = name;
            this.contents = contents;
        }

        Member deflated() {
            method = 8;
            return this;
        }
    }

    /** Writes a zip archive, optionally with ZIP64 end records and extra fields. */
    public static byte[] zip(List<Member> members, boolean zip64) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream central = new ByteArrayOutputStream();
        for (Member m : members) {
            byte[] data = m.method == 8 ? deflate(m.contents) : m.contents;
            CRC32 crc = new CRC32();
            crc.update(m.contents);
            byte[] name = m.name.getBytes(StandardCharsets.UTF_8);
            long offset = out.size();
            long size = m.declaredSize >= 0 ? m.declaredSize : m.contents.length;
            ByteBuffer local = le(30 + name.length);
            local.putInt(0x04034b50)
                    .putShort((short) 20)
                    .putShort((short) m.flags)
                    .putShort((short) m.method)
                    .putInt(0)
                    .putInt((int) crc.getValue())
                    .putInt(data.length)
                    .putInt((int) size)
                    .putShort((short) name.length)
                    .putShort((short) 0)
                    .put(name);
            out.writeBytes(local.array());
            out.writeBytes(data);
            int extra = zip64 ? 4 + 24 : 0;
            ByteBuffer c = le(46 + name.length + extra);
            c.putInt(0x02014b50)
                    .putShort((short) 45)
                    .putShort((short) 45)
                    .putShort((short) m.flags)
                    .putShort((short) m.method)
                    .putInt(0)
                    .putInt((int) crc.getValue())
                    .putInt(zip64 ? -1 : data.length)
                    .putInt(zip64 ? -1 : (int) size)
                    .putShort((short) name.length)
                    .putShort((short) extra)
                    .putShort((short) 0)
                    .putShort((short) 0)
                    .putShort((short) 0)
                    .putInt(0)
                    .putInt(zip64 ? -1 : (int) offset)
                    .put(name);
            if (zip64) {
                c.putShort((short) 1)
                        .putShort((short) 24)
                        .putLong(size)
                        .putLong(data.length)
                        .putLong(offset);
            }
            central.writeBytes(c.array());
        }
        long cdOffset = out.size();
        out.writeBytes(central.toByteArray());
        if (zip64) {
            long recordOffset = out.size();
            ByteBuffer r = le(56 + 20);
            r.putInt(0x06064b50)
                    .putLong(44)
                    .putShort((short) 45)
                    .putShort((short) 45)
                    .putInt(0)
                    .putInt(0)
                    .putLong(members.size())
                    .putLong(members.size())
                    .putLong(central.size())
                    .putLong(cdOffset);
            r.putInt(0x07064b50).putInt(0).putLong(recordOffset).putInt(1);
            out.writeBytes(r.array());
        }
        ByteBuffer end = le(22);
        end.putInt(0x06054b50)
                .putShort((short) 0)
                .putShort((short) 0)
                .putShort((short) (zip64 ? 0xffff : members.size()))
                .putShort((short) (zip64 ? 0xffff : members.size()))
                .putInt(central.size())
                .putInt(zip64 ? -1 : (int) cdOffset)
                .putShort((short) 0);
        out.writeBytes(end.array());
        return out.toByteArray();
    }

    /** A torch.save zip archive in folder "archive" of {@code pickle} and storage records 0, 1, ... */
    public static byte[] torchZip(byte[] pickle, byte[]... records) {
        List<Member> members = new ArrayList<>();
        members.add(new Member("archive/data.pkl", pickle));
        members.add(new Member("archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII)));
        for (int i = 0; i < records.length; i++) {
            members.add(new Member("archive/data/" + i, records[i]));
        }
        return zip(members, false);
    }

    /** A legacy-format file: magic, protocol version, system info, {@code pickle}, key list ["0"], storage. */
    public static byte[] legacy(byte[] pickle, long count, byte[] storage) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new Pickle()
                .proto()
                .op(0x8a, 10)
                .op(0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19)
                .op('.')
                .bytes());
        out.writeBytes(new Pickle().proto().integer(1001).op('.').bytes());
        out.writeBytes(new Pickle()
                .proto()
                .op('}', '(')
                .str("protocol_version")
                .integer(1001)
                .str("little_endian")
                .op(0x88)
                .op('u', '.')
                .bytes());
        out.writeBytes(pickle);
        out.writeBytes(new Pickle().proto().op(']', '(').str("0").op('e', '.').bytes());
        out.writeBytes(le(8).putLong(count).array());
        out.writeBytes(storage);
        return out.toByteArray();
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    public static byte[] deflate(byte[] b) {
        Deflater d = new Deflater(Deflater.BEST_COMPRESSION, true);
        d.setInput(b);
        d.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        while (!d.finished()) {
            out.write(buf, 0, d.deflate(buf));
        }
        d.end();
        return out.toByteArray();
    }
}
