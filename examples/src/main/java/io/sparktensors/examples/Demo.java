package io.sparktensors.examples;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code spark-tensors demo}: the README's main job on the bundled checkpoint (a small random Llama in the
 * Hugging Face sharded layout): list its tensors, hash them on the executors, and answer a few questions
 * with SQL.
 */
public final class Demo {
    private Demo() {}

    /** The bundled checkpoint: {@code examples/data/tiny-llama} under the project (set by bin/spark-tensors). */
    public static Path bundledCheckpoint() {
        String home = System.getProperty("spark.tensors.home");
        Path base = home != null ? Paths.get(home) : Paths.get("examples");
        Path ckpt = base.resolve("data").resolve("tiny-llama");
        if (!Files.isDirectory(ckpt) && Files.isDirectory(Paths.get("data", "tiny-llama"))) {
            ckpt = Paths.get("data", "tiny-llama");
        }
        return ckpt.toAbsolutePath().normalize();
    }

    public static void run(SparkSession spark, PrintStream out) {
        String path = bundledCheckpoint().toString();
        out.println("== Checkpoint " + path);
        Inspect.printText(Inspect.tensors(spark, "safetensors", path, true, java.util.Map.of()), out);

        spark.read().format("safetensors").load(path).createOrReplaceTempView("ckpt");
        out.println();
        out.println("== Parameters per layer (SQL over the tensor table; only headers are read)");
        print(spark.sql("""
        SELECT coalesce(regexp_extract(name, 'layers\\\\.(\\\\d+)\\\\.', 1), '') AS layer,
               count(*) AS tensors,
               sum(aggregate(shape, 1L, (acc, d) -> acc * d)) AS parameters
        FROM ckpt WHERE chunk = 0
        GROUP BY 1 ORDER BY length(layer), layer"""), out);

        out.println("== Largest tensors and where their bytes live");
        print(spark.sql("""
        SELECT name, dtype, shape, length(data) AS bytes, element_at(split(file, '/'), -1) AS file, data_offset
        FROM ckpt ORDER BY bytes DESC, name LIMIT 5"""), out);
    }

    /** Prints a small result as aligned text. */
    static void print(Dataset<Row> df, PrintStream out) {
        List<Row> rows = df.collectAsList();
        String[] names = df.columns();
        int[] width = new int[names.length];
        List<String[]> cells = new ArrayList<>();
        cells.add(names);
        for (Row r : rows) {
            String[] c = new String[names.length];
            for (int i = 0; i < c.length; i++) {
                Object v = r.get(i);
                c[i] = v instanceof scala.collection.Seq<?> seq
                        ? io.sparktensors.spark.compat.ScalaCollections.asJava(seq)
                                .toString()
                        : String.valueOf(v);
            }
            cells.add(c);
        }
        for (String[] c : cells) {
            for (int i = 0; i < c.length; i++) {
                width[i] = Math.max(width[i], c[i].length());
            }
        }
        for (String[] c : cells) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < c.length; i++) {
                sb.append(String.format("%-" + width[i] + "s  ", c[i]));
            }
            out.println(sb.toString().stripTrailing());
        }
        out.println();
    }
}
