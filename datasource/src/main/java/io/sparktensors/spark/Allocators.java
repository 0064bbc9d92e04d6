package io.sparktensors.spark;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * The JVM's root Arrow allocator for this library; every reader takes a child and closes it. Its memory
 * comes from {@link PooledMemory}, which keeps large blocks for the next task.
 */
public final class Allocators {
    private static final BufferAllocator ROOT = new RootAllocator(RootAllocator.configBuilder()
            .allocationManagerFactory(PooledMemory.FACTORY)
            .maxAllocation(Long.MAX_VALUE)
            .build());

    private Allocators() {}

    public static BufferAllocator newChild(String name) {
        return ROOT.newChildAllocator(name, 0, Long.MAX_VALUE);
    }

    /** Off-heap bytes held by all readers of this JVM: zero when none is open (tests check it). */
    public static long allocatedBytes() {
        return ROOT.getAllocatedMemory();
    }
}
