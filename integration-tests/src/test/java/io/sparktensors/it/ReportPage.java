package io.sparktensors.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.analysis.TensorStats;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.safetensors.SafetensorsReader;
import io.sparktensors.io.LocalInputFile;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Assumptions;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** Reads the numbers a report page's charts carry, and checks the page in a real headless browser. */
final class ReportPage {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    private ReportPage() {}

    /** Every bar of every chart, as "chart id/label" to value, parsed as XML (the page is XHTML). */
    static Map<String, String> bars(Path html) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        NodeList svgs = f.newDocumentBuilder().parse(html.toFile()).getElementsByTagNameNS("*", "svg");
        Map<String, String> out = new TreeMap<>();
        for (int i = 0; i < svgs.getLength(); i++) {
            Element svg = (Element) svgs.item(i);
            NodeList groups = svg.getElementsByTagNameNS("*", "g");
            for (int j = 0; j < groups.getLength(); j++) {
                Element g = (Element) groups.item(j);
                out.put(svg.getAttribute("id") + "/" + g.getAttribute("data-label"), g.getAttribute("data-value"));
            }
        }
        return out;
    }

    /** L2 norm of each numbered layer of a local safetensors checkpoint, computed from the file bytes. */
    static Map<Integer, Double> layerNorms(Path folder) throws Exception {
        Map<Integer, Double> squares = new TreeMap<>();
        Pattern layer = Pattern.compile("^model\\.layers\\.(\\d+)\\.");
        try (Stream<Path> files = Files.list(folder)) {
            for (Path f :
                    files.filter(p -> p.toString().endsWith(".safetensors")).toList()) {
                LocalInputFile file = new LocalInputFile(f);
                try (SeekableInput in = file.open(ReadPolicy.RANDOM)) {
                    for (StoredTensor t : new SafetensorsReader()
                            .list(file, null, ReadLimits.DEFAULTS)
                            .tensors()) {
                        Matcher m = layer.matcher(t.name());
                        if (m.find()) {
                            byte[] bytes = new byte[(int) t.data().length()];
                            in.readFully(t.data().offset(), bytes, 0, bytes.length);
                            double l2 = TensorStats.of(bytes, t.dtype()).l2();
                            squares.merge(Integer.parseInt(m.group(1)), l2 * l2, Double::sum);
                        }
                    }
                }
            }
        }
        squares.replaceAll((k, v) -> Math.sqrt(v));
        return squares;
    }

    /** Where a tensor's bytes lie in a local safetensors checkpoint, and the bytes. */
    record Stored(Path file, long offset, io.sparktensors.format.DType dtype, byte[] bytes) {}

    /** Every tensor of a local safetensors checkpoint, read from the files without Spark. */
    static Map<String, Stored> tensors(Path folder) throws Exception {
        Map<String, Stored> out = new TreeMap<>();
        try (Stream<Path> files = Files.list(folder)) {
            for (Path f :
                    files.filter(p -> p.toString().endsWith(".safetensors")).toList()) {
                LocalInputFile file = new LocalInputFile(f);
                try (SeekableInput in = file.open(ReadPolicy.RANDOM)) {
                    for (StoredTensor t : new SafetensorsReader()
                            .list(file, null, ReadLimits.DEFAULTS)
                            .tensors()) {
                        byte[] bytes = new byte[(int) t.data().length()];
                        in.readFully(t.data().offset(), bytes, 0, bytes.length);
                        out.put(t.name(), new Stored(f, t.data().offset(), t.dtype(), bytes));
                    }
                }
            }
        }
        return out;
    }

    /**
     * Renders the page in headless Chromium: the DOM it builds holds the same bars and numbers, and a
     * screenshot is drawn. Skips with a message where Debian's chromium is not installed.
     */
    static void checkInChromium(Path html, Map<String, String> bars) throws Exception {
        Assumptions.assumeTrue(
                Files.isExecutable(CHROMIUM),
                "Chromium is not installed at " + CHROMIUM
                        + " (apt-get install chromium); the page was checked as XML only");
        Path profile = Files.createTempDirectory("chromium-profile");
        Path png = html.resolveSibling("report.png");
        String[] flags = {
            CHROMIUM.toString(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--user-data-dir=" + profile
        };
        Process dump = new ProcessBuilder(Stream.concat(
                                Stream.of(flags),
                                Stream.of("--dump-dom", html.toUri().toString()))
                        .toList())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        String dom = new String(dump.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(dump.waitFor(2, TimeUnit.MINUTES));
        Matcher m = Pattern.compile("data-label=\"([^\"]*)\" data-value=\"([^\"]*)\"")
                .matcher(dom);
        int seen = 0;
        while (m.find()) {
            seen++;
            String label = m.group(1);
            assertTrue(
                    bars.entrySet().stream()
                            .anyMatch(e -> e.getKey().endsWith("/" + label)
                                    && e.getValue().equals(m.group(2))),
                    "the browser's DOM holds bar " + label + " = " + m.group(2));
        }
        assertEquals(bars.size(), seen, "every bar is in the rendered DOM");
        Process shot = new ProcessBuilder(Stream.concat(
                                Stream.of(flags),
                                Stream.of(
                                        "--screenshot=" + png,
                                        "--window-size=1000,2000",
                                        html.toUri().toString()))
                        .toList())
                .redirectErrorStream(true)
                .start();
        shot.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        assertTrue(shot.waitFor(2, TimeUnit.MINUTES));
        assertTrue(Files.size(png) > 10_000, "a screenshot was drawn");
    }
}
