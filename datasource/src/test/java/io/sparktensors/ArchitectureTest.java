package io.sparktensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The layers of the library, checked on its sources: data flows from {@code errors} and {@code io} up through
 * {@code format} and {@code checkpoint} to {@code spark}, and no lower layer names a higher one, by import or
 * by fully-qualified name. The engine-free layers name no Spark or Scala class. In the Spark binding,
 * {@code read} and {@code write} are rooms of their own that do not reach into each other.
 */
class ArchitectureTest {
    private static final Path MAIN = Paths.get("src", "main", "java", "io", "sparktensors");
    private static final Pattern PROJECT_REF =
            Pattern.compile("io\\.sparktensors\\.([a-z][a-z0-9_.]*[a-z0-9_])\\.[A-Z*]");

    /** Every project package a source file names (imports, static imports and fully-qualified names). */
    private static List<String> referencedPackages(Path file) {
        try {
            String text = Files.readString(file);
            List<String> out = new ArrayList<>();
            Matcher m = PROJECT_REF.matcher(text);
            while (m.find()) {
                out.add(m.group(1));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Path> sources(String pkg) {
        Path dir = MAIN.resolve(pkg.replace('.', '/'));
        assertTrue(Files.isDirectory(dir), dir + " exists");
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(f -> f.toString().endsWith(".java")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Files of {@code pkg} (and below) that name a package starting with one of {@code forbidden}. */
    private static List<String> offenders(String pkg, List<String> forbidden) {
        List<String> out = new ArrayList<>();
        for (Path f : sources(pkg)) {
            for (String ref : referencedPackages(f)) {
                for (String bad : forbidden) {
                    if (ref.equals(bad) || ref.startsWith(bad + ".")) {
                        out.add(f + " -> io.sparktensors." + ref);
                    }
                }
            }
        }
        return out;
    }

    @Test
    void theEngineFreeLayersUseNoSpark() throws IOException {
        for (String pkg : List.of("errors", "io", "format", "checkpoint", "analysis")) {
            List<String> found = new ArrayList<>();
            for (Path f : sources(pkg)) {
                String text = Files.readString(f);
                if (text.contains("org.apache.spark")
                        || Pattern.compile("\\bscala\\.").matcher(text).find()) {
                    found.add(f.toString());
                }
            }
            assertEquals(List.of(), found, "engine-free package " + pkg + " must not use Spark or Scala");
        }
    }

    @Test
    void lowerLayersNeverNameHigherOnes() {
        assertEquals(List.of(), offenders("errors", List.of("io", "format", "checkpoint", "analysis", "spark")));
        assertEquals(List.of(), offenders("io", List.of("format", "checkpoint", "analysis", "spark")));
        assertEquals(List.of(), offenders("format", List.of("checkpoint", "analysis", "spark")));
        assertEquals(List.of(), offenders("analysis", List.of("checkpoint", "spark")));
        assertEquals(List.of(), offenders("checkpoint", List.of("analysis", "spark")));
    }

    @Test
    void readAndWriteDoNotReachIntoEachOther() {
        assertEquals(List.of(), offenders("spark/read", List.of("spark.write", "spark.reshard")));
        assertEquals(List.of(), offenders("spark/write", List.of("spark.read")));
    }

    @Test
    void everyPackageSaysWhatLivesThereAndWhatItMayImport() throws IOException {
        List<String> missing = new ArrayList<>();
        try (Stream<Path> dirs = Files.walk(MAIN)) {
            for (Path d : dirs.filter(Files::isDirectory).toList()) {
                boolean hasSources;
                try (Stream<Path> files = Files.list(d)) {
                    hasSources = files.anyMatch(f -> f.toString().endsWith(".java"));
                }
                Path info = d.resolve("package-info.java");
                if (hasSources && !(Files.exists(info) && Files.readString(info).contains("May import"))) {
                    missing.add(d.toString());
                }
            }
        }
        assertEquals(List.of(), missing, "packages without a package-info.java that says what they may import");
    }

    @Test
    void theCheckRecognisesEveryWayOfNamingAPackage() throws IOException {
        Path probe = Files.createTempFile("Probe", ".java");
        try {
            Files.writeString(
                    probe,
                    "import io.sparktensors.format.DType;\nimport static io.sparktensors.io.X.y;\n"
                            + "class P { io.sparktensors.spark.read.TensorScan s; }\nimport io.sparktensors.checkpoint.*;\n");
            assertEquals(List.of("format", "io", "spark.read", "checkpoint"), referencedPackages(probe));
        } finally {
            Files.delete(probe);
        }
    }
}
