package io.sparktensors.format.gguf;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Writes GGUF files field by field, little-endian, including malformed ones, for the GGUF reader's tests. */
final class Gguf {
    static final int UINT8 = 0;
    static final int INT8 = 1;
    static final int UINT16 = 2;
    static final int INT16 = 3;
    static final int UINT32 = 4;
    static final int INT32 = 5;
    static final int FLOAT32 = 6;
    static final int BOOL = 7;
    static final int STRING = 8;
    static final int ARRAY = 9;
    static final int UINT64 = 10;
    static final int INT64 = 11;
    static final int FLOAT64 = 12;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** Magic, version 3 and the two counts. */
    static Gguf header(long tensors, long kvs) {
        return new Gguf()
                .raw("GGUF".getBytes(StandardCharsets.US_ASCII))
                .u32(3)
                .u64(tensors)
                .u64(kvs);
    }

    Gguf raw(byte... b) {
        out.writeBytes(b);
        return this;
    }

    Gguf le(long v, int bytes) {
        for (int i = 0; i < bytes; i++) {
            out.write((int) (v >>> (8 * i)));
        }
        return this;
    }

    Gguf u32(long v) {
        return le(v, 4);
    }

    Gguf u64(long v) {
        return le(v, 8);
    }

    Gguf str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return u64(b.length).raw(b);
    }

    /** A key and a value type; the caller writes the value. */
    Gguf kv(String key, int type) {
        return str(key).u32(type);
    }

    /** A tensor info; dims innermost first, as GGUF writes them. */
    Gguf tensor(String name, int type, long offset, long... dims) {
        str(name).u32(dims.length);
        for (long d : dims) {
            u64(d);
        }
        return u32(type).u64(offset);
    }

    /** Zero bytes up to a multiple of {@code alignment}. */
    Gguf pad(int alignment) {
        while (out.size() % alignment != 0) {
            out.write(0);
        }
        return this;
    }

    int size() {
        return out.size();
    }

    byte[] build() {
        return out.toByteArray();
    }
}
