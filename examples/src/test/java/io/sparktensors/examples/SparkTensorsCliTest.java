package io.sparktensors.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.examples.cli.Command;
import io.sparktensors.examples.cli.Commands;
import io.sparktensors.examples.cli.Failure;
import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import org.apache.spark.SparkException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line's parsing, help and errors: one line on stderr, exit 2 for usage and 1 for the data. */
class SparkTensorsCliTest {

    /** What one run printed and returned. */
    private record Run(int status, String out, List<String> err) {}

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = SparkTensorsCli.run(
                args,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(
                status,
                out.toString(StandardCharsets.UTF_8),
                err.toString(StandardCharsets.UTF_8).lines().toList());
    }

    /** A usage mistake: exit 2, the message on one line and where to find the usage on the next. */
    private static void assertUsageError(Run r, String message, String hint) {
        assertEquals(2, r.status(), r.err().toString());
        assertEquals(List.of("spark-tensors: " + message + " (run '" + hint + "' for usage)"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void unknownCommandIsAUsageError() {
        assertUsageError(run("frobnicate", "x"), "unknown command 'frobnicate'", "spark-tensors --help");
        assertUsageError(run("help", "frobnicate"), "unknown command 'frobnicate'", "spark-tensors --help");
    }

    @Test
    void unknownFlagIsNamedNotTakenForAPath() {
        assertUsageError(
                run("inspect", "model.safetensors", "--jsn"),
                "unknown flag --jsn for inspect",
                "spark-tensors inspect --help");
        assertUsageError(
                run("bench-read", "--sise", "1g"),
                "unknown flag --sise for bench-read",
                "spark-tensors bench-read --help");
    }

    @Test
    void missingValuesAndArgumentsAreUsageErrors() {
        assertUsageError(
                run("inspect", "x", "--format"), "--format needs a value: --format F", "spark-tensors inspect --help");
        assertUsageError(run("inspect"), "inspect needs PATH", "spark-tensors inspect --help");
        assertUsageError(run("diff", "a"), "diff needs B", "spark-tensors diff --help");
        assertUsageError(
                run("reshard", "a", "b", "c"), "reshard takes SRC DST, got a b c", "spark-tensors reshard --help");
        assertUsageError(run("demo", "x"), "demo takes no arguments, got x", "spark-tensors demo --help");
        assertUsageError(
                run("inspect", "a", "--json", "--json"),
                "--json is given more than once",
                "spark-tensors inspect --help");
    }

    @Test
    void badValuesNameTheFlag() {
        assertUsageError(
                run("diff", "a", "b", "--tolerance", "tiny"),
                "bad value 'tiny' for --tolerance",
                "spark-tensors diff --help");
        assertUsageError(
                run("reshard", "a", "b", "--dtype", "Q4"),
                "bad value 'Q4' for --dtype: unknown dtype",
                "spark-tensors reshard --help");
        assertUsageError(
                run("inspect", "a", "--option", "novalue"),
                "--option takes KEY=VALUE, got 'novalue'",
                "spark-tensors inspect --help");
        assertUsageError(
                run("bench-scale", "--shards=many"),
                "bad value 'many' for --shards",
                "spark-tensors bench-scale --help");
        assertUsageError(
                run("bench-functions", "--warm-ups", "-1"),
                "--warm-ups must be 0 or more, got -1",
                "spark-tensors bench-functions --help");
    }

    @Test
    void helpListsEveryCommandAndEachCommandItsFlags() {
        Run help = run("--help");
        assertEquals(0, help.status());
        for (Command c : Commands.all()) {
            assertTrue(
                    help.out().contains("\n  " + c.name() + " ") || help.out().contains("\n  " + c.name() + "\n"),
                    c.name() + " in\n" + help.out());
        }
        assertEquals(help.out(), run("help").out());
        assertEquals(2, run().status(), "no command at all");

        for (String[] args : new String[][] {{"help", "convert"}, {"convert", "--help"}, {"convert", "a", "-h"}}) {
            Run r = run(args);
            assertEquals(0, r.status());
            assertTrue(r.out().startsWith("usage: spark-tensors convert SRC DST"), r.out());
            assertTrue(r.out().contains("--max-shard-size SIZE") && r.out().contains("(default 5GB)"), r.out());
        }
    }

    @Test
    void markdownTableHasARowPerCommand() {
        String table = SparkTensorsCli.markdownTable();
        List<String> rows = table.lines().skip(2).toList();
        assertEquals(Commands.all().size(), rows.size(), table);
        for (int i = 0; i < rows.size(); i++) {
            Command c = Commands.all().get(i);
            assertTrue(rows.get(i).startsWith("| `spark-tensors " + c.name()), rows.get(i));
            String row = rows.get(i);
            c.flags().forEach(f -> assertTrue(row.contains("`" + f.usage() + "`"), c.name() + " " + f.name()));
        }
        assertEquals(table, run("help", "--markdown").out());
    }

    @Test
    void theDocumentedCommandTableIsTheGeneratedOne() throws IOException {
        String readme = Files.readString(Paths.get("..", "docs", "cli.md"));
        String begin = "<!-- commands:begin -->\n";
        String inReadme =
                readme.substring(readme.indexOf(begin) + begin.length(), readme.indexOf("<!-- commands:end -->"));
        assertEquals(
                SparkTensorsCli.markdownTable(),
                inReadme,
                "docs/cli.md's command table: paste in the output of 'spark-tensors help --markdown'");
    }

    @Test
    void theMostSpecificKnownCauseIsReported() {
        var malformed = new MalformedTensorFileException("file:/m/x.safetensors", null, "truncated");
        Failure f = Failure.of(new SparkException(
                "Job aborted due to stage failure: ...\nDriver stacktrace: ...",
                new java.io.UncheckedIOException(new IOException("wrapped", malformed))));
        assertEquals(new Failure(1, "Malformed tensor file 'file:/m/x.safetensors': truncated"), f);
        assertEquals(
                new Failure(1, "File file:/x does not exist"),
                Failure.of(new RuntimeException(
                        new IOException("listing failed", new FileNotFoundException("File file:/x does not exist")))));
        assertEquals(
                2,
                Failure.of(new IllegalArgumentException("maxChunkBytes must be positive"))
                        .status());
        Failure bug = Failure.of(new NullPointerException());
        assertEquals(1, bug.status());
        assertTrue(bug.message().startsWith("unexpected error: java.lang.NullPointerException"), bug.message());
    }

    @Test
    void dataErrorsPrintOneLineAndExit1(@TempDir Path dir) throws IOException {
        Run missing = run("inspect", dir.resolve("nothing-here").toString());
        assertEquals(1, missing.status(), missing.err().toString());
        assertEquals(1, missing.err().size(), missing.err().toString());
        assertTrue(
                missing.err().get(0).startsWith("spark-tensors: ")
                        && missing.err().get(0).contains("nothing-here"),
                missing.err().get(0));

        Path truncated = Files.write(dir.resolve("x.safetensors"), new byte[] {8, 0, 0});
        Run malformed = run("inspect", truncated.toString());
        assertEquals(1, malformed.status(), malformed.err().toString());
        assertEquals(1, malformed.err().size(), malformed.err().toString());
        assertTrue(
                malformed.err().get(0).startsWith("spark-tensors: Malformed tensor file ")
                        && malformed.err().get(0).contains("x.safetensors"),
                malformed.err().get(0));

        Run verbose = run("inspect", "--verbose", truncated.toString());
        assertEquals(1, verbose.status());
        assertEquals(malformed.err().get(0), verbose.err().get(0));
        assertTrue(
                verbose.err().size() > 5 && verbose.err().stream().anyMatch(l -> l.contains("\tat io.sparktensors.")),
                String.join("\n", verbose.err()));
    }
}
