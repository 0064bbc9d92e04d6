package io.sparktensors.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparktensors.spark.Allocators;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInfo;

/**
 * The base of every Spark test in the library: one local session per class (started before the class's own
 * {@code @BeforeAll}, stopped after it), and after each test the check that every reader closed its Arrow
 * memory, so a leak fails the build where it happens.
 */
public abstract class SparkTestBase {
    /** The class's session. */
    protected static SparkSession spark;

    /** A master other than {@code local[2]} for the class, e.g. {@code local[2,3]} to let failed tasks retry. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.TYPE)
    public @interface Master {
        String value();
    }

    @BeforeAll
    static void startSpark(TestInfo info) {
        Class<?> test = info.getTestClass().orElseThrow();
        Master master = test.getAnnotation(Master.class);
        spark = SparkSessions.local(test.getSimpleName(), master == null ? "local[2]" : master.value());
    }

    @AfterAll
    static void stopSpark() {
        if (spark != null) {
            spark.stop();
            spark = null;
        }
    }

    @AfterEach
    void noArrowMemoryLeft() throws InterruptedException {
        assertArrowMemoryReleased();
    }

    /**
     * Asserts that every reader of this JVM closed its Arrow memory. A job that failed returns to the test as
     * soon as one task fails, while the others are still being cancelled and close their readers a moment
     * later; so the check waits up to 30 seconds for the count to reach zero. A leak never does.
     */
    public static void assertArrowMemoryReleased() throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (Allocators.allocatedBytes() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(0, Allocators.allocatedBytes(), "every reader closed its Arrow memory");
    }
}
