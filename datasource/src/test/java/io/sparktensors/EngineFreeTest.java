package io.sparktensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The format and checkpoint packages stay free of any engine: no Spark import may creep in. */
class EngineFreeTest {
  private static final Path MAIN = Paths.get("src", "main", "java", "io", "sparktensors");

  @Test
  void formatAndCheckpointImportNoSpark() throws IOException {
    for (String pkg : List.of("format", "checkpoint", "io")) {
      Path dir = MAIN.resolve(pkg);
      assertTrue(Files.isDirectory(dir), dir + " exists");
      try (Stream<Path> files = Files.walk(dir)) {
        List<String> offenders = files.filter(f -> f.toString().endsWith(".java"))
            .filter(f -> {
              try {
                String text = Files.readString(f);
                return text.contains("org.apache.spark") || text.contains("scala.");
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            })
            .map(Path::toString).toList();
        assertEquals(List.of(), offenders, "engine-free package " + pkg + " must not use Spark");
      }
    }
  }
}
