package io.sparktensors.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sparktensors.format.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The squared distance between two tensors, over the pairs finite in both. */
class TensorChangeTest {
    private static byte[] f32(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    @Test
    void sumsSquaredDifferencesOfFinitePairsOnly() {
        byte[] a = f32(1, 2, Float.NaN, 4, Float.POSITIVE_INFINITY, -1);
        byte[] b = f32(1, 2.5f, 7, 1, 3, Float.NaN);
        // (2 - 2.5)^2 + (4 - 1)^2; the pairs with NaN or Inf are left out.
        assertEquals(0.25 + 9, TensorChange.squaredDistance(a, b, DType.F32));
        assertEquals(0, TensorChange.squaredDistance(a, a, DType.F32));
        // BF16 0x3F80 = 1, 0x4000 = 2; C64 counts real and imaginary parts as values.
        assertEquals(1, TensorChange.squaredDistance(new byte[] {(byte) 0x80, 0x3F}, new byte[] {0, 0x40}, DType.BF16));
        assertEquals(9 + 16, TensorChange.squaredDistance(f32(0, 0), f32(3, 4), DType.C64));
    }

    @Test
    void tensorsOfDifferentLengthsAreAnError() {
        assertThrows(IllegalArgumentException.class, () -> TensorChange.squaredDistance(f32(1), f32(1, 2), DType.F32));
    }
}
