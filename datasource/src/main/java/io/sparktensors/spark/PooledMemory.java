package io.sparktensors.spark;

import java.lang.reflect.Field;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.arrow.memory.AllocationManager;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.ReferenceManager;
import sun.misc.Unsafe;

/**
 * The native memory behind this library's Arrow buffers. Large blocks (a batch's data buffer) are kept when
 * a buffer is released, up to {@link #MAX_IDLE_BYTES} per JVM, and handed to the next buffer of their size
 * class: a scan's tasks then read into memory the operating system has already mapped, instead of paying, in
 * every task, for the first touch of fresh pages (the kernel zeroes each one, a pass over every byte the
 * task reads). Blocks are never zeroed here: Arrow does not promise zeroed memory, and the readers write
 * every byte they expose. Arrow's accounting (which the tests check for leaks) is unchanged: an idle block
 * belongs to no allocator.
 */
final class PooledMemory extends AllocationManager {
    /** Blocks at least this large are pooled, in power-of-two size classes; smaller ones are malloc'ed. */
    static final long MIN_POOLED_BYTES = 1L << 20;
    /** Most bytes of idle blocks a JVM keeps. */
    static final long MAX_IDLE_BYTES = 512L << 20;

    private static final Unsafe UNSAFE = unsafe();
    private static final ConcurrentHashMap<Long, ConcurrentLinkedDeque<Long>> IDLE = new ConcurrentHashMap<>();
    private static final AtomicLong IDLE_BYTES = new AtomicLong();

    static final AllocationManager.Factory FACTORY = new AllocationManager.Factory() {
        @Override
        public AllocationManager create(BufferAllocator accountingAllocator, long size) {
            return new PooledMemory(accountingAllocator, size);
        }

        @Override
        public ArrowBuf empty() {
            return EMPTY;
        }
    };

    private static final ArrowBuf EMPTY = new ArrowBuf(ReferenceManager.NO_OP, null, 0, UNSAFE.allocateMemory(1));

    /** The bytes asked for, which the allocator accounts (its rounding policy has rounded them already). */
    private final long requested;
    /** The block's size: its size class. */
    private final long size;

    private final long address;

    private PooledMemory(BufferAllocator accountingAllocator, long requested) {
        super(accountingAllocator);
        this.requested = requested;
        this.size = sizeClass(requested);
        this.address = take(size);
    }

    /** A pooled block's size: the power of two at or above the request; smaller requests as they are. */
    static long sizeClass(long requested) {
        if (requested < MIN_POOLED_BYTES) {
            return Math.max(requested, 1);
        }
        long c = Long.highestOneBit(requested);
        return c == requested ? c : c << 1;
    }

    private static long take(long size) {
        if (size >= MIN_POOLED_BYTES) {
            ConcurrentLinkedDeque<Long> idle = IDLE.get(size);
            Long block = idle == null ? null : idle.pollFirst();
            if (block != null) {
                IDLE_BYTES.addAndGet(-size);
                return block;
            }
        }
        return UNSAFE.allocateMemory(size);
    }

    @Override
    public long getSize() {
        return requested;
    }

    @Override
    protected long memoryAddress() {
        return address;
    }

    @Override
    protected void release0() {
        if (size >= MIN_POOLED_BYTES && IDLE_BYTES.addAndGet(size) <= MAX_IDLE_BYTES) {
            IDLE.computeIfAbsent(size, k -> new ConcurrentLinkedDeque<>()).addFirst(address);
            return;
        }
        if (size >= MIN_POOLED_BYTES) {
            IDLE_BYTES.addAndGet(-size);
        }
        UNSAFE.freeMemory(address);
    }

    /** Bytes of idle blocks kept for the next buffers. */
    static long idleBytes() {
        return IDLE_BYTES.get();
    }

    private static Unsafe unsafe() {
        try {
            Field f = Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            return (Unsafe) f.get(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Cannot reach sun.misc.Unsafe to allocate Arrow memory", e);
        }
    }
}
