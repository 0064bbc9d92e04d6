package io.sparktensors.bench;

import static org.apache.spark.sql.functions.expr;

import io.sparktensors.testing.SparkTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writing training data against Parquet: {@code bench.rows} rows of a 768-float embedding plus a bigint label,
 * generated once and cached on disk, written with {@code noop} (reading the cache alone), {@code layout=dataset} and Parquet
 * (snappy, Spark's default). Off unless asked for:
 * {@code mvn -o -pl datasource surefire:test -Dtest=DatasetWriteBench -Dbench.rows=1000000}.
 */
@EnabledIfSystemProperty(named = "bench.rows", matches = "\\d+")
class DatasetWriteBench extends SparkTestBase {
    @TempDir
    Path dir;

    @Test
    void writeDatasetAgainstParquet() throws Exception {
        long rows = Long.getLong("bench.rows");
        Dataset<Row> df = spark.range(0, rows, 1, 8)
                .select(
                        expr("transform(sequence(1, 768), i -> cast(hash(id, i) / 2147483648.0 as float))")
                                .as("embedding"),
                        expr("id % 10").as("label"))
                .persist(StorageLevel.DISK_ONLY());
        df.count(); // generated once: the writes below read the same cached rows
        double gb = rows * (768 * 4 + 8) / 1e9;
        for (int round = 0; round < 2; round++) { // the first round warms the JVM and the cache
            long t0 = System.nanoTime();
            df.write().format("noop").mode("overwrite").save();
            long t1 = System.nanoTime();
            df.write()
                    .format("safetensors")
                    .option("layout", "dataset")
                    .save(dir.resolve("st" + round).toString());
            long t2 = System.nanoTime();
            df.write().parquet(dir.resolve("pq" + round).toString());
            long t3 = System.nanoTime();
            report("noop (reading the cache)", rows, gb, t1 - t0, 0);
            report("safetensors layout=dataset", rows, gb, t2 - t1, size(dir.resolve("st" + round)));
            report("parquet", rows, gb, t3 - t2, size(dir.resolve("pq" + round)));
        }
        df.unpersist();
    }

    private static void report(String what, long rows, double gb, long nanos, long bytes) {
        double s = nanos / 1e9;
        System.out.printf(
                "BENCH %-28s %8d rows %6.2f s %10.0f rows/s %6.3f GB/s (of %.2f GB of values) files %d MB%n",
                what, rows, s, rows / s, gb / s, gb, bytes >> 20);
    }

    private static long size(Path root) throws Exception {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile)
                    .mapToLong(p -> p.toFile().length())
                    .sum();
        }
    }
}
