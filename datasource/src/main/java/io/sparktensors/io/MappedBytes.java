package io.sparktensors.io;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;

/**
 * Unmaps a file mapping as soon as its reader is done with it, instead of when the garbage collector gets to
 * the buffer: a scan maps and drops a mapping per chunk, thousands per checkpoint, and the kernel caps a
 * process's mappings ({@code vm.max_map_count}, 65,530 by default). Uses {@code sun.misc.Unsafe.invokeCleaner}
 * (module {@code jdk.unsupported}, as Spark and Lucene do); where that is missing the mapping goes with the
 * buffer, as the JDK does by default.
 */
public final class MappedBytes {
    private static final MethodHandle INVOKE_CLEANER = invokeCleaner();

    private MappedBytes() {}

    /** Whether a scan may map local files (on unless {@code -Dsparktensors.mmap=false}, to compare). */
    public static boolean enabled() {
        return !"false".equals(System.getProperty("sparktensors.mmap"));
    }

    /** Unmaps {@code mapped}, a buffer {@code FileChannel.map} returned (not a slice of one); never use it after. */
    public static void release(ByteBuffer mapped) {
        if (INVOKE_CLEANER == null || mapped == null || !mapped.isDirect()) {
            return;
        }
        try {
            INVOKE_CLEANER.invokeExact(mapped);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("Cannot unmap a file mapping", e);
        }
    }

    private static MethodHandle invokeCleaner() {
        try {
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            Field field = unsafeClass.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            Object unsafe = field.get(null);
            return MethodHandles.lookup()
                    .findVirtual(unsafeClass, "invokeCleaner", MethodType.methodType(void.class, ByteBuffer.class))
                    .bindTo(unsafe);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
