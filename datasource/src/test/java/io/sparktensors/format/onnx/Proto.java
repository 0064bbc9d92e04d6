package io.sparktensors.format.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Builds protobuf messages byte by byte, including malformed ones, for the ONNX reader's tests. */
final class Proto {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    static Proto of() {
        return new Proto();
    }

    Proto tag(int field, int wire) {
        return rawVarint(((long) field << 3) | wire);
    }

    Proto rawVarint(long v) {
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
        return this;
    }

    Proto raw(byte... b) {
        out.writeBytes(b);
        return this;
    }

    Proto varint(int field, long v) {
        return tag(field, 0).rawVarint(v);
    }

    Proto bytes(int field, byte[] b) {
        return tag(field, 2).rawVarint(b.length).raw(b);
    }

    Proto string(int field, String s) {
        return bytes(field, s.getBytes(StandardCharsets.UTF_8));
    }

    Proto message(int field, Proto m) {
        return bytes(field, m.build());
    }

    Proto packedVarints(int field, long... values) {
        Proto p = new Proto();
        for (long v : values) {
            p.rawVarint(v);
        }
        return bytes(field, p.build());
    }

    Proto packedFloats(int field, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return bytes(field, b.array());
    }

    Proto packedDoubles(int field, double... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : values) {
            b.putDouble(v);
        }
        return bytes(field, b.array());
    }

    byte[] build() {
        return out.toByteArray();
    }

    // ONNX messages, with the field numbers of onnx.proto.

    /** A TensorProto with name, data type and dims (packed) and nothing else. */
    static Proto tensor(String name, int dataType, long... dims) {
        Proto t = of();
        if (dims.length > 0) {
            t.packedVarints(1, dims);
        }
        return t.varint(2, dataType).string(8, name);
    }

    /** A model of ir_version 8 around {@code graph}, which comes last so that every prefix cuts it. */
    static byte[] model(Proto graph) {
        return of().varint(1, 8)
                .string(2, "test")
                .message(8, of().string(1, "").varint(2, 17))
                .message(7, graph)
                .build();
    }

    static Proto graphOf(Proto... initializers) {
        Proto g = of().string(2, "g");
        for (Proto t : initializers) {
            g.message(5, t);
        }
        return g;
    }

    /** A Constant node whose {@code value} attribute is {@code tensor}. */
    static Proto constant(String output, Proto tensor) {
        return of().string(2, output)
                .string(4, "Constant")
                .message(5, of().string(1, "value").varint(20, 4).message(5, tensor));
    }
}
