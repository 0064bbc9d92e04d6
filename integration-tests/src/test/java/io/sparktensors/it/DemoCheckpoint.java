package io.sparktensors.it;

import io.sparktensors.testing.Fixtures;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;

/** The checkpoint bundled with the examples, and what the reference tools say it holds. */
final class DemoCheckpoint {
    private DemoCheckpoint() {}

    static Path path() {
        return Paths.get("..", "examples", "data", "tiny-llama")
                .toAbsolutePath()
                .normalize();
    }

    static Map<String, Fixtures.Expected> expected() {
        return Fixtures.expected(path());
    }
}
