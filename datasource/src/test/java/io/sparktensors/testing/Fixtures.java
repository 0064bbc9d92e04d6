package io.sparktensors.testing;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * The shared fixtures ({@code ../shared/fixtures}): real third-party checkpoints and reference files with
 * their expected.json. Read in place, never copied. Tests that need them skip with a message where the
 * folder is absent, and fail under CI (CI=true), where it must be present.
 */
public final class Fixtures {
    private Fixtures() {}

    /** The fixtures root, or a skip (a fail under CI) when absent. */
    public static Path root() {
        String configured = System.getProperty("spark.tensors.fixtures");
        Path root = configured != null ? Paths.get(configured) : Paths.get("..", "..", "shared", "fixtures");
        if (!Files.isDirectory(root)) {
            Path alternative = Paths.get("..", "shared", "fixtures");
            root = Files.isDirectory(alternative) ? alternative : root;
        }
        if (!Files.isDirectory(root)) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail("CI=true but the shared fixtures are missing at " + root.toAbsolutePath());
            }
            Assumptions.abort("Shared fixtures not found at " + root.toAbsolutePath() + "; skipping fixture tests");
        }
        return root.toAbsolutePath().normalize();
    }

    public static Path reference(String name) {
        return root().resolve("reference").resolve(name);
    }

    public static Path real(String name) {
        return root().resolve("real").resolve(name);
    }

    /** A tensor as expected.json describes it. */
    public record Expected(String dtype, long[] shape, long nbytes, String sha256) {}

    /** The SHA-256 of every tensor in a reference folder's expected.json, by name. */
    public static Map<String, String> expectedHashes(Path folder) {
        Map<String, String> out = new java.util.TreeMap<>();
        expected(folder).forEach((name, e) -> out.put(name, e.sha256()));
        return out;
    }

    /** The tensors of a reference folder's expected.json, by name. */
    public static Map<String, Expected> expected(Path folder) {
        try {
            JsonNode root =
                    new ObjectMapper().readTree(folder.resolve("expected.json").toFile());
            Map<String, Expected> out = new LinkedHashMap<>();
            root.get("tensors").fields().forEachRemaining(e -> {
                JsonNode t = e.getValue();
                long[] shape = new long[t.get("shape").size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = t.get("shape").get(i).asLong();
                }
                out.put(
                        e.getKey(),
                        new Expected(
                                t.get("dtype").asText(),
                                shape,
                                t.get("nbytes").asLong(),
                                t.get("sha256").asText()));
            });
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A golden file or folder committed under datasource's {@code src/test/resources/golden}, read in place: from
     * datasource itself (and the smoke tests, which run there) or from a module beside it.
     */
    public static Path golden(String... parts) {
        Path here = Paths.get("src", "test", "resources", "golden");
        Path base =
                Files.isDirectory(here) ? here : Paths.get("..", "datasource", "src", "test", "resources", "golden");
        return base.resolve(Paths.get("", parts)).toAbsolutePath().normalize();
    }

    /** A DCP golden checkpoint's entry in golden/dcp/expected.json (written by make_dcp.py): tensors, skipped. */
    public static JsonNode dcpExpected(String checkpoint) {
        try {
            return new ObjectMapper()
                    .readTree(golden("dcp", "expected.json").toFile())
                    .get(checkpoint);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The SHA-256 of every full tensor of a DCP golden checkpoint, by name. */
    public static Map<String, String> dcpHashes(String checkpoint) {
        Map<String, String> out = new java.util.TreeMap<>();
        for (JsonNode t : dcpExpected(checkpoint).get("tensors")) {
            out.put(t.get("name").asText(), t.get("sha256").asText());
        }
        return out;
    }

    /** A per-rank DTensor golden's entry in golden/dtensor/expected.json (make_dtensor_ranks.py): its tensors. */
    public static JsonNode dtensorExpected(String folder) {
        try {
            return new ObjectMapper()
                    .readTree(golden("dtensor", "expected.json").toFile())
                    .get(folder);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The SHA-256 of every full tensor of a per-rank DTensor golden, by name. */
    public static Map<String, String> dtensorHashes(String folder) {
        Map<String, String> out = new java.util.TreeMap<>();
        for (JsonNode t : dtensorExpected(folder).get("tensors")) {
            out.put(t.get("name").asText(), t.get("sha256").asText());
        }
        return out;
    }
}
