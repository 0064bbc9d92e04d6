package io.sparktensors.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparktensors.examples.SparkTensorsCli;
import io.sparktensors.testing.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The README's command, run as users run it, and inspect checked against the reference tools. */
class CommandLineTest {

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void launcherRunsTheDemoOnTheBundledCheckpoint() throws Exception {
        Path launcher = Paths.get("..", "examples", "bin", "spark-tensors")
                .toAbsolutePath()
                .normalize();
        ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "demo").redirectErrorStream(true);
        pb.environment()
                .put("SPARK_TENSORS_JAVA_OPTS", "-Xmx1g -Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(4, TimeUnit.MINUTES));
        assertEquals(0, p.exitValue(), out);
        Map<String, Fixtures.Expected> expected = DemoCheckpoint.expected();
        assertTrue(out.contains("total              39           213,568           427,136  in 3 files"), out);
        Fixtures.Expected lmHead = expected.get("lm_head.weight");
        assertTrue(out.contains(lmHead.sha256()), "demo prints the hashes the reference tools computed:\n" + out);
        assertTrue(out.contains("Parameters per layer"), out);
    }

    @Test
    void inspectJsonWithHashesMatchesTheReferenceTools() throws Exception {
        String json = Harness.cli("inspect", DemoCheckpoint.path().toString(), "--json", "--hash");
        JsonNode tensors = new ObjectMapper().readTree(json).get("tensors");
        Map<String, Fixtures.Expected> expected = DemoCheckpoint.expected();
        assertEquals(expected.size(), tensors.size());
        for (var e : expected.entrySet()) {
            JsonNode t = tensors.get(e.getKey());
            assertEquals(e.getValue().dtype(), t.get("dtype").asText(), e.getKey());
            assertEquals(e.getValue().nbytes(), t.get("nbytes").asLong(), e.getKey());
            assertEquals(e.getValue().sha256(), t.get("sha256").asText(), e.getKey());
            List<Long> shape = new ArrayList<>();
            t.get("shape").forEach(d -> shape.add(d.asLong()));
            assertArrayEquals(
                    e.getValue().shape(),
                    shape.stream().mapToLong(Long::longValue).toArray(),
                    e.getKey());
        }
    }

    @Test
    void inspectHashesChunkedTensorsWhole() throws Exception {
        // Every reference checkpoint, with chunks forced small so hashing must join chunks in order.
        for (String name : List.of("safetensors-zoo", "tiny-llama-sharded")) {
            Path folder = Fixtures.reference(name);
            String json =
                    Harness.cli("inspect", folder.toString(), "--json", "--hash", "--option", "maxChunkBytes=1000");
            JsonNode tensors = new ObjectMapper().readTree(json).get("tensors");
            for (var e : Fixtures.expected(folder).entrySet()) {
                assertEquals(
                        e.getValue().sha256(),
                        tensors.get(e.getKey()).get("sha256").asText(),
                        e.getKey());
            }
        }
    }

    @Test
    void unknownCommandsAndMissingArgumentsExitWithAHintToTheUsage() throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(
                2,
                SparkTensorsCli.run(
                        new String[] {"frobnicate"},
                        new PrintStream(new ByteArrayOutputStream()),
                        new PrintStream(err)));
        assertEquals(
                "spark-tensors: unknown command 'frobnicate' (run 'spark-tensors --help' for usage)\n", err.toString());
        err.reset();
        assertEquals(
                2,
                SparkTensorsCli.run(
                        new String[] {"inspect"}, new PrintStream(new ByteArrayOutputStream()), new PrintStream(err)));
        assertTrue(err.toString().startsWith("spark-tensors: inspect needs PATH (run "), err.toString());
        assertEquals(1, err.toString().lines().count(), err.toString());
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void launcherReportsAMissingPathInOneLineWithoutSparksLog() throws Exception {
        Path launcher = Paths.get("..", "examples", "bin", "spark-tensors")
                .toAbsolutePath()
                .normalize();
        ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "inspect", "/nonexistent/model.safetensors");
        pb.environment()
                .put("SPARK_TENSORS_JAVA_OPTS", "-Xmx1g -Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
        Process p = pb.redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(2, TimeUnit.MINUTES));
        assertEquals(1, p.exitValue(), err);
        assertEquals(1, err.lines().count(), "one line, no Spark log, no stack trace:\n" + err);
        assertTrue(err.startsWith("spark-tensors: ") && err.contains("/nonexistent/model.safetensors"), err);
    }

    @Test
    void inspectReadsEveryFormat() throws Exception {
        for (String[] ref : new String[][] {
            {"tiny-gpt2-bin", ""},
            {"tf-savedmodel", "saved_model"},
            {"onnx-mlp-external", ""},
            {"gguf-small", "small.gguf"},
            {"keras-dense", "legacy.h5"}
        }) {
            Path folder = Fixtures.reference(ref[0]);
            String json = Harness.cli("inspect", folder.resolve(ref[1]).toString(), "--json", "--hash");
            JsonNode tensors = new ObjectMapper().readTree(json).get("tensors");
            for (var e : Fixtures.expected(folder).entrySet()) {
                if (e.getKey().equals("transformer.wte.weight")) {
                    continue; // tied to lm_head.weight: one name is kept
                }
                assertEquals(
                        e.getValue().sha256(),
                        tensors.get(e.getKey()).get("sha256").asText(),
                        ref[0] + " " + e.getKey());
            }
        }
    }

    @Test
    void convertTurnsAPyTorchCheckpointIntoSafetensorsAndVerifiesIt(@TempDir Path dir) throws Exception {
        Path source = Fixtures.reference("tiny-gpt2-bin-sharded");
        Path target = dir.resolve("converted");
        String out =
                Harness.cli("convert", source.toString(), target.toString(), "--max-shard-size", "20KB", "--verify");
        assertTrue(
                out.contains("verify: 28 tensors identical, 0 converted to another dtype (not compared), 0 differ"),
                out);
        assertTrue(Files.exists(target.resolve("model.safetensors.index.json")), out);
        assertTrue(Files.exists(target.resolve("config.json")), "config.json is copied beside the shards");
        String json = Harness.cli("inspect", target.toString(), "--json", "--hash");
        JsonNode tensors = new ObjectMapper().readTree(json).get("tensors");
        assertEquals(28, tensors.size());
        assertEquals(
                Fixtures.expected(source).get("lm_head.weight").sha256(),
                tensors.get("lm_head.weight").get("sha256").asText());
        // A BF16 conversion: converted tensors are counted, not compared.
        String bf16 = Harness.cli(
                "convert", source.toString(), dir.resolve("bf16").toString(), "--dtype", "BF16", "--verify");
        assertTrue(bf16.contains("verify: 0 tensors identical, 28 converted to another dtype"), bf16);
    }

    @Test
    void convertTurnsADcpCheckpointIntoHuggingFaceSafetensors(@TempDir Path dir) throws Exception {
        // Two gloo ranks' torch.distributed.checkpoint (datasource's golden/dcp/make_dcp.py): Shard(0), Shard(1).
        Path source = Paths.get("..", "datasource", "src", "test", "resources", "golden", "dcp", "two-ranks")
                .toAbsolutePath()
                .normalize();
        Path target = dir.resolve("hf");
        String out =
                Harness.cli("convert", source.toString(), target.toString(), "--max-shard-size", "256", "--verify");
        assertTrue(
                out.contains("verify: 8 tensors identical, 0 converted to another dtype (not compared), 0 differ"),
                out);
        assertTrue(Files.exists(target.resolve("model.safetensors.index.json")), out);
        try (var files = Files.list(target)) {
            assertTrue(
                    files.noneMatch(f -> f.getFileName().toString().endsWith(".distcp")), "rank files are not copied");
        }
    }

    @Test
    void diffFindsAConversionEqualAndADtypeChangeDifferent(@TempDir Path dir) throws Exception {
        Path source = Fixtures.reference("tiny-gpt2-bin");
        Harness.cli("convert", source.toString(), dir.resolve("st").toString());
        String same = Harness.cli("diff", source.toString(), dir.resolve("st").toString(), "--json");
        JsonNode s = new ObjectMapper().readTree(same);
        assertTrue(s.get("equal").asBoolean(), same);
        assertEquals(28, s.get("compared").size());

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = SparkTensorsCli.run(
                new String[] {
                    "diff",
                    Fixtures.reference("tiny-llama-sharded").toString(),
                    Fixtures.reference("tiny-llama-bf16").toString(),
                    "--json"
                },
                new PrintStream(out, true),
                System.err);
        assertEquals(1, status, "different checkpoints exit 1");
        JsonNode d = new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
        assertEquals(21, d.get("changed").size(), "every tensor changed dtype: " + d);
        String change =
                d.get("changed").get("model.layers.0.input_layernorm.weight").asText();
        assertTrue(change.startsWith("F32[") && change.contains(" -> BF16["), change);
        assertFalse(d.get("equal").asBoolean());
    }

    @Test
    void reportChartsCarryTheRightNumbers(@TempDir Path dir) throws Exception {
        Path html = dir.resolve("report.html");
        Harness.cli("report", DemoCheckpoint.path().toString(), "--out", html.toString());
        Map<String, String> bars = ReportPage.bars(html);
        // Parameters per layer and dtype, from the reference tools' shapes.
        Map<String, Long> params = new java.util.TreeMap<>();
        DemoCheckpoint.expected().forEach((name, e) -> {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("^model\\.layers\\.(\\d+)\\.")
                    .matcher(name);
            long n = java.util.Arrays.stream(e.shape()).reduce(1, (a, b) -> a * b);
            params.merge((m.find() ? "layer " + m.group(1) : "other") + " " + e.dtype(), n, Long::sum);
        });
        params.forEach((label, n) -> assertEquals(Long.toString(n), bars.get("params/" + label), label));
        // Norms across depth, computed here from the file bytes without Spark.
        ReportPage.layerNorms(DemoCheckpoint.path())
                .forEach((layer, norm) -> assertEquals(
                        norm, Double.parseDouble(bars.get("norms/layer " + layer)), norm * 1e-5, "layer " + layer));
    }

    @Test
    void reportRendersInAHeadlessBrowser(@TempDir Path dir) throws Exception {
        Path html = dir.resolve("report.html");
        Harness.cli(
                "report", DemoCheckpoint.path().toString(), "--out", html.toString(), "--histogram", "lm_head.weight");
        ReportPage.checkInChromium(html, ReportPage.bars(html));
    }

    @Test
    void reportAgainstAFineTuneShowsWhatChangedAsAHeatmap(@TempDir Path dir) throws Exception {
        // A "fine-tune" of the bundled checkpoint: the lowest mantissa bit of one tensor's BF16 values flipped.
        Path tuned = dir.resolve("tuned");
        Files.createDirectories(tuned);
        try (var files = Files.list(DemoCheckpoint.path())) {
            for (Path f : files.toList()) {
                Files.copy(f, tuned.resolve(f.getFileName()));
            }
        }
        String changed = "model.layers.2.self_attn.q_proj.weight";
        Map<String, ReportPage.Stored> before = ReportPage.tensors(DemoCheckpoint.path());
        ReportPage.Stored t = before.get(changed);
        byte[] after = t.bytes().clone();
        for (int i = 0; i < after.length; i += 2) {
            after[i] ^= 0x01;
        }
        try (var out = java.nio.channels.FileChannel.open(
                tuned.resolve(t.file().getFileName()), java.nio.file.StandardOpenOption.WRITE)) {
            out.write(java.nio.ByteBuffer.wrap(after), t.offset());
        }
        Path html = dir.resolve("report.html");
        Harness.cli(
                "report", DemoCheckpoint.path().toString(), "--against", tuned.toString(), "--out", html.toString());
        Map<String, String> bars = ReportPage.bars(html);
        // Each cell is ||A - B|| / ||A|| of the layer's module, computed here from the bytes without Spark.
        double expected = Math.sqrt(io.sparktensors.analysis.TensorChange.squaredDistance(t.bytes(), after, t.dtype()))
                / io.sparktensors.analysis.TensorStats.of(t.bytes(), t.dtype()).l2();
        assertEquals(
                String.format(java.util.Locale.ROOT, "%.6g", expected), bars.get("changes/layer 2 self_attn.q_proj"));
        assertTrue(expected > 0);
        long cells =
                bars.keySet().stream().filter(k -> k.startsWith("changes/")).count();
        assertEquals(4 * 9, cells, "4 layers of 9 modules: " + bars.keySet());
        bars.forEach((k, v) -> {
            if (k.startsWith("changes/") && !k.equals("changes/layer 2 self_attn.q_proj")
                    || k.startsWith("changes-other/")) {
                assertEquals(0, Double.parseDouble(v), k);
            }
        });
        ReportPage.checkInChromium(html, bars);
    }

    @Test
    void analyzeAnswersTheNotebookQuestionsOnTheBundledCheckpoint() throws Exception {
        String out = Harness.cli("analyze", DemoCheckpoint.path().toString());
        assertTrue(out.contains("-- How many parameters per layer and dtype?"), out);
        long total = DemoCheckpoint.expected().values().stream()
                .mapToLong(e -> java.util.Arrays.stream(e.shape()).reduce(1, (a, b) -> a * b))
                .sum();
        long printed = 0;
        String[] lines = out.split("\n");
        int start = java.util.Arrays.asList(lines).indexOf("-- How many parameters per layer and dtype?");
        for (int i = start + 2; i < lines.length && !lines[i].isBlank(); i++) {
            String[] cells = lines[i].trim().split("\\s+");
            printed += Long.parseLong(cells[cells.length - 1]);
        }
        assertEquals(total, printed, "the parameters per layer add up to the checkpoint's:\n" + out);
        assertTrue(out.contains("-- Which tensors hold NaN or Inf?\nname  nans  infs\n\n"), "none here:\n" + out);
        for (var layer : ReportPage.layerNorms(DemoCheckpoint.path()).entrySet()) {
            assertTrue(
                    out.contains("\n" + layer.getKey() + "      "
                            + String.format(java.util.Locale.ROOT, "%.4f", layer.getValue())),
                    "layer " + layer.getKey() + " norm " + layer.getValue() + ":\n" + out);
        }
        // The Java DataFrame API example gives the same tables for the questions it answers.
        String java = Harness.cli("analyze", DemoCheckpoint.path().toString(), "--java");
        assertTrue(java.contains("-- How do the weight norms run across depth?"), java);
        assertTrue(out.startsWith(java.substring(0, java.indexOf("-- How do the weight norms"))), java + "\n" + out);
        String javaNorms = java.substring(java.indexOf("-- How do the weight norms"));
        assertTrue(out.contains(javaNorms.strip()), javaNorms + "\n" + out);
    }

    @Test
    void reportTreatsTensorNamesAsValuesNeverAsSql(@TempDir Path dir) throws Exception {
        // The largest tensor, whose histogram the report draws, is named to break out of a SQL string.
        String hostile = "zz' OR true) --\\'";
        var big = io.sparktensors.testing.TestCheckpoints.random(
                hostile, io.sparktensors.format.DType.F32, new long[] {64, 4}, 3);
        long finite =
                io.sparktensors.analysis.TensorStats.of(big.data(), big.dtype()).finite();
        io.sparktensors.testing.TestCheckpoints.write(
                dir.resolve("m.safetensors"),
                Map.of(),
                List.of(
                        big,
                        io.sparktensors.testing.TestCheckpoints.random(
                                "small", io.sparktensors.format.DType.F32, new long[] {2}, 4),
                        new io.sparktensors.testing.TestCheckpoints.Tensor(
                                "empty", io.sparktensors.format.DType.F32, new long[] {0}, new byte[0])));
        Path html = dir.resolve("r.html");
        Harness.cli("report", dir.resolve("m.safetensors").toString(), "--out", html.toString());
        long counted = ReportPage.bars(html).entrySet().stream()
                .filter(e -> e.getKey().startsWith("hist-zz"))
                .mapToLong(e -> Long.parseLong(e.getValue()))
                .sum();
        assertEquals(finite, counted, "the histogram counts exactly the hostile tensor's finite values");
    }
}
