package io.sparktensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * Every Java example in the README and the docs compiles against the library as it is: a block's
 * {@code import} lines become the file's imports and the rest the body of a method given {@code spark}.
 */
class DocumentationExamplesTest {
    private static final Pattern JAVA_BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);

    private static List<Path> documents() throws IOException {
        Path root = Paths.get("..").toAbsolutePath().normalize();
        List<Path> docs = new ArrayList<>(List.of(root.resolve("README.md")));
        try (Stream<Path> files = Files.list(root.resolve("docs"))) {
            files.filter(f -> f.toString().endsWith(".md")).sorted().forEach(docs::add);
        }
        return docs;
    }

    private static JavaFileObject source(String className, String code) {
        return new SimpleJavaFileObject(URI.create("string:///" + className + ".java"), JavaFileObject.Kind.SOURCE) {
            @Override
            public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                return code;
            }
        };
    }

    @Test
    void everyJavaExampleCompiles() throws IOException {
        List<JavaFileObject> sources = new ArrayList<>();
        List<String> origins = new ArrayList<>();
        for (Path doc : documents()) {
            Matcher m = JAVA_BLOCK.matcher(Files.readString(doc));
            while (m.find()) {
                StringBuilder imports = new StringBuilder();
                StringBuilder body = new StringBuilder();
                for (String line : m.group(1).split("\n")) {
                    (line.startsWith("import ") ? imports : body).append(line).append('\n');
                }
                String name = "Example" + sources.size();
                sources.add(source(
                        name,
                        imports + "import org.apache.spark.sql.SparkSession;\n" + "class " + name
                                + " {\n  static void run(SparkSession spark) throws Exception {\n" + body
                                + "  }\n}\n"));
                origins.add(doc.getFileName().toString());
            }
        }
        assertTrue(sources.size() >= 2, "the README and docs hold Java examples: " + origins);
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path out = Files.createTempDirectory("doc-examples");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        StringWriter log = new StringWriter();
        boolean ok = javac.getTask(
                        log,
                        null,
                        diagnostics,
                        List.of("-classpath", classPath, "-d", out.toString(), "-proc:none"),
                        null,
                        sources)
                .call();
        assertEquals(
                List.of(),
                diagnostics.getDiagnostics().stream()
                        .filter(d -> d.getKind() == javax.tools.Diagnostic.Kind.ERROR)
                        .map(d -> origins.get(
                                        Integer.parseInt(d.getSource().getName().replaceAll("\\D", ""))) + ": "
                                + d.getMessage(null))
                        .toList(),
                log.toString());
        assertTrue(ok, log.toString());
    }
}
