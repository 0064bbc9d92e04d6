package io.sparktensors.smoke;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.spark.source.SafetensorsDataSource;
import java.net.URL;
import org.junit.jupiter.api.Test;

/** The class path is what a user's cluster has: this Spark's jars and the runtime jar, nothing else. */
class RuntimeJarTest {

    private static String jarOf(Class<?> c) {
        URL location = c.getProtectionDomain().getCodeSource().getLocation();
        return location.getPath();
    }

    @Test
    void theLibraryComesFromTheRuntimeJarOfThisLine() {
        String jar = jarOf(SafetensorsDataSource.class);
        String line = System.getProperty("spark.tensors.line");
        assertTrue(jar.contains("spark-tensors-" + line), jar + " is the runtime jar of " + line);
    }

    @Test
    void jhdfIsRelocatedAndNotOnTheClassPathUnderItsOwnName() throws Exception {
        Class<?> shaded = Class.forName("io.sparktensors.shaded.io.jhdf.HdfFile");
        assertEquals(jarOf(SafetensorsDataSource.class), jarOf(shaded));
        assertThrows(ClassNotFoundException.class, () -> Class.forName("io.jhdf.HdfFile"));
    }

    @Test
    void sparkIsTheVersionOfThisLine() {
        String expected = System.getProperty("spark.tensors.sparkVersion");
        assertEquals(expected, org.apache.spark.package$.MODULE$.SPARK_VERSION());
    }
}
