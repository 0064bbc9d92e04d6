package io.sparktensors.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;

class PooledMemoryTest {
    @Test
    void aLargeBlockReleasedByOneReaderServesTheNext() {
        long address;
        try (BufferAllocator first = Allocators.newChild("first");
                ArrowBuf buf = first.buffer(3 << 20)) {
            address = buf.memoryAddress();
            buf.setLong(0, 42);
        }
        assertEquals(0, Allocators.allocatedBytes(), "accounting is back to zero: the idle block is no reader's");
        assertTrue(PooledMemory.idleBytes() >= 4 << 20, "the block waits for the next buffer of its class");
        try (BufferAllocator second = Allocators.newChild("second");
                ArrowBuf buf = second.buffer((3 << 20) + 7)) { // the same 4 MiB class
            assertEquals(address, buf.memoryAddress(), "the next task reads into memory already mapped");
            assertTrue(buf.capacity() >= (3L << 20) + 7);
        }
        assertEquals(0, Allocators.allocatedBytes());
    }

    @Test
    void accountingFollowsTheRequestWhateverTheBlock() {
        // 40 MiB + 1: Arrow rounds it to a multiple of its 16 MiB chunks (48 MiB), the pool's block is 64 MiB;
        // the allocator must account, and later release, exactly what it reserved.
        try (BufferAllocator reader = Allocators.newChild("reader")) {
            ArrowBuf a = reader.buffer((40L << 20) + 1);
            ArrowBuf b = reader.buffer(5L << 20);
            long accounted = reader.getAllocatedMemory();
            assertTrue(accounted >= (45L << 20) + 1 && accounted <= 56L << 20, "accounted " + accounted);
            a.close();
            b.close();
            assertEquals(0, reader.getAllocatedMemory());
        }
        assertEquals(0, Allocators.allocatedBytes());
    }

    @Test
    void sizeClassesArePowersOfTwoFromOneMebibyte() {
        assertEquals(1000, PooledMemory.sizeClass(1000), "small blocks are allocated as asked");
        assertEquals(1 << 20, PooledMemory.sizeClass(1 << 20));
        assertEquals(2 << 20, PooledMemory.sizeClass((1 << 20) + 1));
        assertEquals(1L << 31, PooledMemory.sizeClass((1L << 30) + 1));
        assertNotEquals(0, PooledMemory.sizeClass(0));
    }
}
