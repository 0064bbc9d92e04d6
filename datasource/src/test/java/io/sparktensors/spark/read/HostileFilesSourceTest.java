package io.sparktensors.spark.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.DType;
import io.sparktensors.format.pytorch.TorchBytes;
import io.sparktensors.format.pytorch.TorchBytes.Member;
import io.sparktensors.format.pytorch.TorchBytes.Pickle;
import io.sparktensors.testing.SparkTestBase;
import io.sparktensors.testing.TestCheckpoints;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hostile corpus through the Spark source, not only the parsers: each file fails the job with the
 * project's error naming the file and the fault, or is skipped under ignoreCorruptFiles, and the session
 * keeps working. Nothing outside the folder is touched.
 */
class HostileFilesSourceTest extends SparkTestBase {
    @TempDir
    static Path dir;

    private static Path secret;

    @BeforeAll
    static void start() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("checkpoint"));
        secret = Files.write(dir.resolve("secret.bin"), new byte[64]);
        TestCheckpoints.write(
                folder.resolve("good.safetensors"),
                Map.of(),
                List.of(TestCheckpoints.random("w", DType.F32, new long[] {4, 4}, 1)));
        byte[] system = new Pickle()
                .proto()
                .global("os", "system")
                .op('(')
                .str("touch " + dir.resolve("pwned"))
                .op('t', 'R', '.')
                .bytes();
        Files.write(folder.resolve("system.pt"), TorchBytes.torchZip(system));
        Files.write(
                folder.resolve("traversal.pt"),
                TorchBytes.zip(
                        List.of(new Member(
                                "../up/data.pkl",
                                new Pickle().proto().op('}', '.').bytes())),
                        false));
        Files.write(
                folder.resolve("truncated.safetensors"),
                java.util.Arrays.copyOf(Files.readAllBytes(folder.resolve("good.safetensors")), 40));
        Files.write(folder.resolve("escape.onnx"), onnxWithExternalData("../secret.bin"));
        Files.write(folder.resolve("bad.gguf"), "GGUF\u0001\0\0\0".getBytes(StandardCharsets.ISO_8859_1));
    }

    /** A model whose one initializer's external data lies outside the model's folder. */
    private static byte[] onnxWithExternalData(String location) {
        Proto entry = new Proto().string(1, "location").string(2, location);
        Proto tensor = new Proto()
                .varint(1, 4)
                .varint(2, 1)
                .string(8, "w")
                .message(13, entry)
                .varint(14, 1);
        Proto graph = new Proto().message(5, tensor);
        return new Proto().varint(1, 8).message(7, graph).bytes();
    }

    /** Just enough protobuf to write the hostile ONNX model. */
    private static final class Proto {
        private final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();

        Proto varint(int field, long v) {
            raw((field << 3));
            raw(v);
            return this;
        }

        Proto string(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Proto message(int field, Proto p) {
            return bytes(field, p.bytes());
        }

        Proto bytes(int field, byte[] b) {
            raw((field << 3) | 2);
            raw(b.length);
            out.writeBytes(b);
            return this;
        }

        private void raw(long v) {
            while ((v & ~0x7fL) != 0) {
                out.write((int) ((v & 0x7f) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    private static Throwable rootMalformed(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof MalformedTensorFileException) {
                return t;
            }
        }
        throw new AssertionError("no MalformedTensorFileException in the chain", e);
    }

    @Test
    void eachHostileFileFailsTheJobNamingFileAndFault() {
        Map<String, String> faults = Map.of(
                "system.pt", "global 'os.system' is not allowed",
                "traversal.pt", "../up/data.pkl",
                "truncated.safetensors", "exceeds the file length",
                "escape.onnx", "not inside its folder",
                "bad.gguf", "version 1");
        faults.forEach((file, fault) -> {
            String path = dir.resolve("checkpoint").resolve(file).toString();
            Exception e = assertThrows(
                    Exception.class,
                    () -> spark.read()
                            .format("tensors")
                            .option("pickle", "strict")
                            .load(path)
                            .collectAsList(),
                    file);
            Throwable m = rootMalformed(e);
            assertTrue(m.getMessage().contains(file), m.getMessage());
            assertTrue(m.getMessage().contains(fault), file + ": " + m.getMessage());
        });
        // The symbolic default reads os.system as an inert name: no tensor, nothing run.
        String system = dir.resolve("checkpoint").resolve("system.pt").toString();
        assertEquals(0, spark.read().format("pytorch").load(system).count());
        assertTrue(Files.notExists(dir.resolve("pwned")), "nothing in a file runs");
    }

    @Test
    void ignoreCorruptFilesSkipsThemAndReadsTheRest() {
        List<Row> rows = spark.read()
                .format("tensors")
                .option("ignoreCorruptFiles", "true")
                .load(dir.resolve("checkpoint").resolve("*").toString())
                .select("name")
                .collectAsList();
        assertEquals(List.of("w"), rows.stream().map(r -> r.getString(0)).toList());
        // The session and its executors keep working after the failures.
        assertEquals(
                16,
                spark.read()
                                .format("safetensors")
                                .load(dir.resolve("checkpoint/good.safetensors").toString())
                                .selectExpr("explode(shape)")
                                .selectExpr("sum(col)")
                                .first()
                                .getLong(0)
                        * 2);
    }
}
