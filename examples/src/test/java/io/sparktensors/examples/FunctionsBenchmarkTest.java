package io.sparktensors.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.testing.SparkSessions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bench-functions on a small checkpoint: every line it promises, with numbers that fit together. */
class FunctionsBenchmarkTest {
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = SparkSessions.local("FunctionsBenchmarkTest");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void printsTheKernelTheQueryAndTheirRatioForEachDtype(@TempDir Path dir) throws Exception {
        String report = run(dir, Map.of());
        for (String dtype : new String[] {"BF16", "F32"}) {
            double alone = number(report, "tensor_stats kernel, " + dtype + " +one thread: +([0-9.]+) GB/s");
            double busy = number(report, "tensor_stats kernel, " + dtype + " +\\d+ threads at once: +([0-9.]+) GB/s");
            double perCore = number(
                    report,
                    "tensor_stats through Spark SQL, " + dtype
                            + " +\\d+ cores: +[0-9.]+ GB/s \\(([0-9.]+) GB/s per core\\) over 0.02 GB");
            double ratio = number(report, "SQL per core / kernel, " + dtype + " +([0-9.]+)x the kernel alone");
            assertTrue(alone > 0 && busy > 0 && perCore > 0, report);
            // The ratio is the median of each round's ratio, not the ratio of medians: close, not equal.
            assertTrue(ratio > 0 && ratio < 10 * perCore / alone && ratio > perCore / alone / 10, report);
            double smallPerCore = number(report, "over 0.01 GB: +([0-9.]+) GB/s per core, [0-9.]+x the kernel alone");
            assertTrue(smallPerCore > 0, report);
            assertTrue(
                    Pattern.compile("over 0.01 GB: .*(so each query costs [0-9.]+ s, then runs at [0-9.]+ GB/s per core"
                                    + "|the two sizes do not separate)")
                            .matcher(report)
                            .find(),
                    report);
            // The larger checkpoint lists each file of the smaller twice.
            Path file = dir.resolve(dtype).resolve("part-0.safetensors");
            try (Stream<Path> shards = Files.list(dir.resolve(dtype + "-x2"))) {
                List<Path> all = shards.toList();
                assertEquals(8, all.size(), all.toString());
                for (Path shard : all) {
                    assertEquals(Files.size(file), Files.size(shard), shard.toString());
                }
            }
        }
        assertEquals(2 * 5, report.lines().count(), report);
    }

    @Test
    void aQueryThatFailsIsReportedAndTheKernelStillMeasured(@TempDir Path dir) throws Exception {
        String report = run(dir, Map.of("maxChunkBytes", "banana"));
        for (String dtype : new String[] {"BF16", "F32"}) {
            assertTrue(number(report, "tensor_stats kernel, " + dtype + " +one thread: +([0-9.]+) GB/s") > 0, report);
            Matcher failed = Pattern.compile("tensor_stats through Spark SQL, " + dtype + " +\\d+ cores: failed: (.*)")
                    .matcher(report);
            assertTrue(failed.find(), report);
            assertTrue(failed.group(1).contains("maxChunkBytes"), report);
        }
        assertFalse(report.contains("SQL per core"), report);
    }

    private static String run(Path dir, Map<String, String> options) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            FunctionsBenchmark.run(spark, 2, dir, options, 3, out);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static double number(String report, String regex) {
        Matcher m = Pattern.compile(regex).matcher(report);
        assertTrue(m.find(), "no line matching " + regex + " in:\n" + report);
        return Double.parseDouble(m.group(1));
    }
}
