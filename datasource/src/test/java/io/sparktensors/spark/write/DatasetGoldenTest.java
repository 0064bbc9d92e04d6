package io.sparktensors.spark.write;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparktensors.format.safetensors.SafetensorsHeader;
import io.sparktensors.format.safetensors.TensorEntry;
import io.sparktensors.testing.SparkTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dataset layout against what the safetensors reference library reads: {@code golden/dataset/sample.safetensors}
 * was written by this test ({@code -Dsparktensors.golden.update=true} rewrites it) and {@code golden.json} made
 * from it by {@code make_golden.py} with {@code safetensors.numpy.load_file} (names, dtypes, shapes, sha256 of
 * each array's bytes). The writer must reproduce the file byte for byte, and its tensors must be what numpy read.
 */
class DatasetGoldenTest extends SparkTestBase {
    private static final Path GOLDEN = Paths.get("src/test/resources/golden/dataset");

    @TempDir
    Path dir;

    /** The DataFrame make_golden.py's golden describes (see its docstring). */
    static Dataset<Row> sample() {
        StructType schema = new StructType()
                .add("label", DataTypes.LongType, false)
                .add("weight", DataTypes.DoubleType, false)
                .add("score", DataTypes.FloatType, false)
                .add("flag", DataTypes.BooleanType, false)
                .add("small", DataTypes.ByteType, false)
                .add("emb", DataTypes.createArrayType(DataTypes.FloatType, false), false)
                .add(
                        "grid",
                        DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.IntegerType, false), false),
                        false)
                .add("tokens", DataTypes.createArrayType(DataTypes.IntegerType, false), false)
                .add("pixels", DataTypes.BinaryType, false);
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < 6; r++) {
            List<Float> emb = List.of(r * 0.5f, -r * 0.25f, 1f / (r + 1), (float) r * r);
            // Ragged in both dimensions: r % 3 + 1 inner arrays, the i-th of (i + r) % 3 + 1 ints.
            List<List<Integer>> grid = new ArrayList<>();
            for (int i = 0; i <= r % 3; i++) {
                List<Integer> inner = new ArrayList<>();
                for (int j = 0; j <= (i + r) % 3; j++) {
                    inner.add(10 * r + i - j);
                }
                grid.add(inner);
            }
            List<Integer> tokens = new ArrayList<>();
            for (int t = 0; t <= r % 4; t++) {
                tokens.add(100 * r + t);
            }
            byte[] pixels = {(byte) r, (byte) (r * 40), (byte) 255, 0};
            rows.add(RowFactory.create(
                    (long) r - 2,
                    r / 3.0,
                    (float) Math.sqrt(r),
                    r % 2 == 0,
                    (byte) (r - 3),
                    emb,
                    grid,
                    tokens,
                    pixels));
        }
        return spark.createDataFrame(rows, schema).coalesce(1);
    }

    static void writeSample(Dataset<Row> df, String path) {
        df.write()
                .format("safetensors")
                .option("layout", "dataset")
                .option("dtype.score", "F16")
                .option("ragged", "pad")
                .option("shape.pixels", "2,2")
                .option("metadata.source", "spark-tensors golden")
                .save(path);
    }

    @Test
    void theWriterReproducesTheGoldenFileNumpyRead() throws Exception {
        Path out = dir.resolve("sample");
        writeSample(sample(), out.toString());
        Path written;
        try (Stream<Path> s = Files.list(out)) {
            List<Path> files =
                    s.filter(p -> p.toString().endsWith(".safetensors")).collect(Collectors.toList());
            assertEquals(1, files.size(), files.toString());
            written = files.get(0);
        }
        byte[] bytes = Files.readAllBytes(written);
        if (Boolean.getBoolean("sparktensors.golden.update")) {
            Files.write(GOLDEN.resolve("sample.safetensors"), bytes);
        }
        assertArrayEquals(
                Files.readAllBytes(GOLDEN.resolve("sample.safetensors")), bytes, "byte-identical to the golden");

        JsonNode golden =
                new ObjectMapper().readTree(GOLDEN.resolve("golden.json").toFile());
        SafetensorsHeader header = DatasetWriterTest.header(written);
        JsonNode tensors = golden.get("tensors");
        assertEquals(tensors.size(), header.tensors().size());
        for (TensorEntry t : header.tensors()) {
            JsonNode g = tensors.get(t.name());
            assertTrue(g != null, "numpy read " + t.name());
            assertEquals(g.get("dtype").asText(), numpyDtype(t.dtype().code()), t.name());
            List<Long> shape = new ArrayList<>();
            g.get("shape").forEach(d -> shape.add(d.asLong()));
            assertEquals(shape, java.util.Arrays.stream(t.shape()).boxed().collect(Collectors.toList()), t.name());
            byte[] data = java.util.Arrays.copyOfRange(
                    bytes, (int) (header.dataStart() + t.begin()), (int) (header.dataStart() + t.end()));
            String sha = HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(data));
            assertEquals(g.get("sha256").asText(), sha, t.name());
        }
        golden.get("metadata")
                .fields()
                .forEachRemaining(e ->
                        assertEquals(e.getValue().asText(), header.metadata().get(e.getKey()), e.getKey()));
    }

    private static String numpyDtype(String code) {
        return switch (code) {
            case "F64" -> "float64";
            case "F32" -> "float32";
            case "F16" -> "float16";
            case "I64" -> "int64";
            case "I32" -> "int32";
            case "I16" -> "int16";
            case "I8" -> "int8";
            case "U8" -> "uint8";
            case "BOOL" -> "bool";
            default -> code;
        };
    }
}
