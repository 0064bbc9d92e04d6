package io.sparktensors.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LittleEndianTest {
    @Test
    void readsAsALittleEndianBufferDoes() {
        byte[] b = new byte[64];
        new Random(3).nextBytes(b);
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 0; at + 8 <= b.length; at++) {
            assertEquals(buf.getShort(at), LittleEndian.getShort(b, at));
            assertEquals(buf.getShort(at) & 0xffff, LittleEndian.getUnsignedShort(b, at));
            assertEquals(buf.getInt(at), LittleEndian.getInt(b, at));
            assertEquals(buf.getInt(at) & 0xffffffffL, LittleEndian.getUnsignedInt(b, at));
            assertEquals(buf.getLong(at), LittleEndian.getLong(b, at));
        }
    }

    @Test
    void signsAndBounds() {
        byte[] b = {(byte) 0xfe, (byte) 0xff, (byte) 0xff, (byte) 0xff};
        assertEquals(-2, LittleEndian.getInt(b, 0));
        assertEquals(0xfffffffeL, LittleEndian.getUnsignedInt(b, 0));
        assertEquals(0xfffe, LittleEndian.getUnsignedShort(b, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> LittleEndian.getInt(b, 1));
    }
}
