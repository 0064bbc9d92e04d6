package io.sparktensors.examples;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.regexp_extract;
import static org.apache.spark.sql.functions.round;
import static org.apache.spark.sql.functions.sqrt;
import static org.apache.spark.sql.functions.sum;

import io.sparktensors.spark.functions.TensorFunctions;
import io.sparktensors.spark.source.TensorsDataSource;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The notebook questions of {@code examples/sql/analysis.sql}, answered with the Java DataFrame API and
 * {@link TensorFunctions}: {@code spark-tensors analyze PATH --java}. Each answer is the same table the SQL
 * statement gives.
 */
public final class AnalysisApi {
    private static final String LAYER = "\\.(?:layers|h)\\.(\\d+)\\.";

    private AnalysisApi() {}

    /** Each question with its answer, in the order of analysis.sql. */
    public static Map<String, Dataset<Row>> answers(SparkSession spark, String path) {
        TensorFunctions.register(spark);
        Dataset<Row> ckpt = spark.read().format(TensorsDataSource.SHORT_NAME).load(path);
        Column parameters = expr("aggregate(shape, 1L, (a, d) -> a * d)");
        Dataset<Row> stats = ckpt.groupBy("name")
                .agg(TensorFunctions.tensorStatsMerge(TensorFunctions.tensorStats(col("data"), col("dtype")))
                        .as("s"));
        Map<String, Dataset<Row>> out = new LinkedHashMap<>();
        out.put(
                "How many parameters per layer and dtype?",
                ckpt.where("chunk = 0")
                        .withColumn("layer", regexp_extract(col("name"), LAYER, 1))
                        .groupBy("layer", "dtype")
                        .agg(count(lit(1)).as("tensors"), sum(parameters).as("parameters"))
                        .orderBy(expr("length(layer)"), col("layer"), col("dtype")));
        out.put(
                "Which tensors hold NaN or Inf?",
                stats.where("s.nans > 0 OR s.infs > 0")
                        .select(
                                col("name"),
                                col("s.nans").as("nans"),
                                col("s.infs").as("infs"))
                        .orderBy("name"));
        out.put(
                "How do the weight norms run across depth?",
                stats.withColumn("layer", regexp_extract(col("name"), LAYER, 1))
                        .where("layer != ''")
                        .groupBy(col("layer").cast("int").as("layer"))
                        .agg(
                                round(sqrt(sum(expr("s.l2 * s.l2"))), 4).as("l2"),
                                round(avg(col("s.std")), 6).as("mean_std"))
                        .orderBy("layer"));
        return out;
    }

    public static void print(SparkSession spark, String path, PrintStream out) {
        answers(spark, path).forEach((question, answer) -> {
            out.println("-- " + question);
            Analyze.print(answer.columns(), answer.collectAsList(), out);
        });
    }
}
