package io.sparktensors.examples;

import io.sparktensors.spark.functions.TensorFunctions;
import io.sparktensors.spark.source.TensorsDataSource;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code spark-tensors analyze PATH}: the notebook questions of {@code examples/sql/analysis.sql} (bundled
 * in this jar) answered on a checkpoint of any format, each statement's table printed in turn.
 */
public final class Analyze {
    private Analyze() {}

    public static void run(SparkSession spark, String path, PrintStream out) throws IOException {
        TensorFunctions.register(spark);
        spark.read().format(TensorsDataSource.SHORT_NAME).load(path).createOrReplaceTempView("ckpt");
        for (Statement s : statements()) {
            out.println("-- " + s.question());
            Dataset<Row> result = spark.sql(s.sql());
            print(result.columns(), result.collectAsList(), out);
        }
    }

    /** A result as a plain text table. */
    static void print(String[] columns, List<Row> rows, PrintStream out) {
        int[] widths = new int[columns.length];
        List<String[]> cells = new ArrayList<>();
        cells.add(columns);
        for (Row r : rows) {
            String[] c = new String[columns.length];
            for (int i = 0; i < c.length; i++) {
                c[i] = String.valueOf(r.get(i));
            }
            cells.add(c);
        }
        for (String[] c : cells) {
            for (int i = 0; i < c.length; i++) {
                widths[i] = Math.max(widths[i], Math.min(60, c[i].length()));
            }
        }
        for (String[] c : cells) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < c.length; i++) {
                line.append(String.format("%-" + widths[i] + "s  ", c[i]));
            }
            out.println(line.toString().stripTrailing());
        }
        out.println();
    }

    /** A question and the statement that answers it. */
    record Statement(String question, String sql) {}

    /** The statements of analysis.sql, each with the comment line above it. */
    static List<Statement> statements() throws IOException {
        String text;
        try (InputStream in = Analyze.class.getResourceAsStream("/analysis.sql")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        List<Statement> out = new ArrayList<>();
        String question = "";
        StringBuilder sql = new StringBuilder();
        for (String line : text.split("\n")) {
            if (line.isBlank() && sql.length() == 0) {
                continue;
            }
            if (line.startsWith("--")) {
                if (sql.length() == 0) {
                    question = line.substring(2).trim();
                }
                continue;
            }
            sql.append(line).append('\n');
            if (line.trim().endsWith(";")) {
                out.add(new Statement(question, sql.toString().trim().replaceAll(";$", "")));
                sql.setLength(0);
            }
        }
        return out;
    }
}
