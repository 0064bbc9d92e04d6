package io.sparktensors.spark.functions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.format.DType;
import io.sparktensors.spark.ComputedColumns;
import io.sparktensors.testing.SparkSessions;
import io.sparktensors.testing.SparkTestBase;
import io.sparktensors.testing.TestCheckpoints;
import io.sparktensors.testing.TestCheckpoints.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code tensor_stats(data, dtype)} and {@code sha2(data, 256)} computed inside the tensor scan give exactly
 * what they give on rows (the rule turned off by its setting), on every dtype with NaN and Inf, on chunked
 * tensors, through the merge aggregate, nested in other expressions and under filters, and the scan then no
 * longer reads {@code data} into rows. Run once on a session with the extension (the rule before column
 * pushdown) and once on one with the functions registered by call (the rule after it).
 */
abstract class InScanColumnsChecks {
    static SparkSession spark;
    static Path dir;

    /** Writes the test checkpoints into a fresh folder and makes the views {@code t} (chunked) and {@code sub}. */
    static void setUp(SparkSession session) throws Exception {
        spark = session;
        dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "in-scan");
        List<Tensor> tensors = new ArrayList<>();
        long seed = 1;
        for (DType d : DType.values()) {
            if (d.bits() % 8 == 0) {
                // Random bits: every float dtype gets NaN and Inf among its 4096 values.
                tensors.add(TestCheckpoints.random(d.code().toLowerCase(), d, new long[] {64, 64}, seed++));
            }
        }
        tensors.add(new Tensor("empty", DType.F32, new long[] {0}, new byte[0]));
        tensors.add(TestCheckpoints.random("big", DType.BF16, new long[] {1000, 64}, 99));
        TestCheckpoints.write(dir.resolve("values.safetensors"), Map.of(), tensors);
        TestCheckpoints.write(
                dir.resolve("sub").resolve("m.safetensors"),
                Map.of(),
                List.of(
                        TestCheckpoints.random("f4", DType.F4, new long[] {8, 8}, 5),
                        TestCheckpoints.random("f32", DType.F32, new long[] {8, 8}, 6)));
        // 4000-byte chunks: every tensor but the empty one is read in several rows.
        spark.read()
                .format("safetensors")
                .option("maxChunkBytes", "4000")
                .load(dir.resolve("values.safetensors").toString())
                .createOrReplaceTempView("t");
        spark.read().format("safetensors").load(dir.resolve("sub").toString()).createOrReplaceTempView("sub");
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
            spark = null;
        }
    }

    @AfterEach
    void noArrowMemoryLeft() throws InterruptedException {
        SparkTestBase.assertArrowMemoryReleased();
    }

    /** The rows of {@code query}, as sorted strings with every double by its bits. */
    private static List<String> rows(Supplier<Dataset<Row>> query) {
        List<String> out = new ArrayList<>();
        for (Row r : query.get().collectAsList()) {
            out.add(text(r));
        }
        out.sort(null);
        return out;
    }

    private static String text(Object v) {
        if (v instanceof Row r) {
            StringBuilder s = new StringBuilder("(");
            for (int i = 0; i < r.size(); i++) {
                s.append(text(r.get(i))).append(',');
            }
            return s.append(')').toString();
        }
        if (v instanceof Double d) {
            return "d" + Long.toHexString(Double.doubleToLongBits(d));
        }
        return String.valueOf(v);
    }

    /** The query's rows with the rule off (the functions on rows), checked equal to those with it on. */
    private static List<String> sameBothWays(Supplier<Dataset<Row>> query) {
        List<String> inScan = rows(query);
        spark.conf().set(ComputedColumns.ENABLED, "false");
        try {
            List<String> onRows = rows(query);
            assertEquals(onRows, inScan);
            return inScan;
        } finally {
            spark.conf().unset(ComputedColumns.ENABLED);
        }
    }

    private static List<String> sameBothWays(String sql) {
        return sameBothWays(() -> spark.sql(sql));
    }

    /** The columns the query's tensor scan reads, from its description in the physical plan. */
    private static List<String> scanColumns(Dataset<Row> df) {
        Matcher m = Pattern.compile("TensorScan .*? columns=\\[([^\\]]*)\\]")
                .matcher(df.queryExecution().executedPlan().toString());
        assertTrue(m.find(), df.queryExecution().executedPlan().toString());
        List<String> out = new ArrayList<>();
        for (String c : m.group(1).split(",")) {
            out.add(c.strip());
        }
        return out;
    }

    @Test
    void statsOfEveryDtypeAndChunkEqualThoseOnRows() {
        List<String> rows = sameBothWays("SELECT name, chunk, tensor_stats(data, dtype) AS s FROM t");
        long chunks = spark.table("t").count();
        assertEquals(chunks, rows.size());
        assertTrue(chunks > 40, "chunked: " + chunks);
        // NaN and Inf were met and counted.
        Row nonFinite = spark.sql("SELECT sum(s.nans), sum(s.infs) FROM (SELECT tensor_stats(data, dtype) AS s FROM t)")
                .first();
        assertTrue(nonFinite.getLong(0) > 0 && nonFinite.getLong(1) > 0, nonFinite.toString());
    }

    @Test
    void theScanComputesTheStatsAndNoLongerReadsData() {
        Dataset<Row> inScan = spark.sql("SELECT name, chunk, tensor_stats(data, dtype) AS s FROM t");
        List<String> columns = scanColumns(inScan);
        assertTrue(columns.contains("_stats"), columns.toString());
        assertFalse(columns.contains("data"), columns.toString());
        spark.conf().set(ComputedColumns.ENABLED, "false");
        try {
            List<String> onRows = scanColumns(spark.sql("SELECT name, chunk, tensor_stats(data, dtype) AS s FROM t"));
            assertTrue(onRows.contains("data"), onRows.toString());
            assertFalse(onRows.contains("_stats"), onRows.toString());
        } finally {
            spark.conf().unset(ComputedColumns.ENABLED);
        }
        inScan.collectAsList();
        Map<String, Long> metrics = SparkSessions.scanMetrics(inScan);
        assertEquals(expectedBytes(), metrics.get("tensorBytesRead"), "every byte read once: " + metrics);
        assertEquals(expectedBytes(), metrics.get("tensorBytesMapped"), "local files: computed on mapped pages");
    }

    @Test
    void readIntoArrowInsteadOfMappedTheResultsAreTheSame() {
        // Remote storage (and -Dsparktensors.mmap=false) reads the bytes into Arrow memory and computes there.
        String query = "SELECT name, chunk, tensor_stats(data, dtype) AS s, sha2(data, 256) AS h FROM t";
        List<String> mapped = rows(() -> spark.sql(query));
        System.setProperty("sparktensors.mmap", "false");
        try {
            Dataset<Row> read = spark.sql(query);
            assertEquals(mapped, rows(() -> read));
            Map<String, Long> metrics = SparkSessions.scanMetrics(read);
            assertEquals(expectedBytes(), metrics.get("tensorBytesRead"), metrics.toString());
            assertEquals(0L, metrics.get("tensorBytesMapped"), metrics.toString());
        } finally {
            System.clearProperty("sparktensors.mmap");
        }
    }

    /** Every tensor byte of the chunked view, read once. */
    private static long expectedBytes() {
        return spark.sql("SELECT sum(length(data)) FROM t").first().getLong(0);
    }

    @Test
    void theMergeAggregateEqualsTheOneOnRows() {
        List<String> rows =
                sameBothWays("SELECT name, tensor_stats_merge(tensor_stats(data, dtype)) AS s FROM t GROUP BY name");
        assertEquals(spark.sql("SELECT DISTINCT name FROM t").count(), rows.size());
        assertReadsStatsNotData(
                spark.sql("SELECT name, tensor_stats_merge(tensor_stats(data, dtype)) AS s FROM t GROUP BY name"));
        sameBothWays(() -> spark.table("t")
                .groupBy("name")
                .agg(TensorFunctions.tensorStatsMerge(TensorFunctions.tensorStats(
                                spark.table("t").col("data"), spark.table("t").col("dtype")))
                        .as("s")));
    }

    private static void assertReadsStatsNotData(Dataset<Row> df) {
        List<String> columns = scanColumns(df);
        assertTrue(columns.contains("_stats") && !columns.contains("data"), columns.toString());
    }

    @Test
    void nestedInOtherExpressionsAndFilters() {
        assertReadsStatsNotData(spark.sql("SELECT sum(n) FROM (SELECT tensor_stats(data, dtype).count AS n FROM t)"));
        assertReadsStatsNotData(spark.sql("SELECT name FROM t WHERE tensor_stats(data, dtype).nans > 0"));
        sameBothWays("SELECT name, chunk, tensor_stats(data, dtype).l2 * 2 AS x, tensor_stats(data, dtype).nans AS n "
                + "FROM t WHERE tensor_stats(data, dtype).count > 100 AND chunk % 2 = 0");
        sameBothWays("SELECT dtype, sum(tensor_stats(data, dtype).zeros), max(tensor_stats(data, dtype).max) "
                + "FROM t WHERE name <> 'big' GROUP BY dtype");
        sameBothWays(() -> spark.table("t")
                .selectExpr("name", "chunk", "tensor_stats(data, dtype) AS s")
                .where("s.infs > 0")
                .selectExpr("name", "s.mean"));
    }

    @Test
    void hashesEqualSha2OnRows() {
        List<String> rows = sameBothWays("SELECT name, chunk, sha2(data, 256), sha2(data, 0) FROM t");
        assertEquals(spark.table("t").count(), rows.size());
        assertTrue(scanColumns(spark.sql("SELECT name, sha2(data, 256) FROM t")).contains("_sha256"));
        Dataset<Row> whole = spark.read()
                .format("safetensors")
                .load(dir.resolve("values.safetensors").toString());
        sameBothWays(() -> TensorHashes.sha256(whole));
    }

    @Test
    void theComputedColumnsCanBeAskedForByName() {
        // Metadata columns resolve on the table itself (a temporary view does not pass them on).
        Supplier<Dataset<Row>> table = () -> spark.read()
                .format("safetensors")
                .option("maxChunkBytes", "4000")
                .load(dir.resolve("values.safetensors").toString());
        List<String> byName = rows(() -> table.get().selectExpr("name", "chunk", "_stats", "_sha256"));
        spark.conf().set(ComputedColumns.ENABLED, "false");
        try {
            assertEquals(
                    rows(() -> table.get().selectExpr("name", "chunk", "tensor_stats(data, dtype)", "sha2(data, 256)")),
                    byName);
        } finally {
            spark.conf().unset(ComputedColumns.ENABLED);
        }
        assertEquals(spark.table("t").count(), byName.size());
    }

    @Test
    void otherShapesStayOnRows() {
        // data from a join: not the scan's own bytes at the function, so the function runs on rows.
        String join = "SELECT a.name, a.chunk, tensor_stats(b.data, b.dtype) FROM t a JOIN t b "
                + "ON a.name = b.name AND a.chunk = b.chunk";
        sameBothWays(join);
        // data still wanted beside the stats: both come from the scan.
        sameBothWays("SELECT name, chunk, length(data), tensor_stats(data, dtype).max FROM t");
        // The dtype argument is not the row's own: the function runs on rows.
        List<String> columns = scanColumns(spark.sql("SELECT tensor_stats(data, 'U8') FROM t"));
        assertTrue(columns.contains("data"), columns.toString());
        sameBothWays("SELECT name, chunk, tensor_stats(data, 'U8') FROM t");
    }

    @Test
    void rowsAFilterDropsAreNotSummarisedAndErrorsStayTheSame() {
        // F4 values are not decoded: a filter that drops them keeps the query working, as on rows.
        sameBothWays("SELECT name, tensor_stats(data, dtype) FROM sub WHERE substr(name, 1, 2) <> 'f4'");
        String all = "SELECT name, tensor_stats(data, dtype) FROM sub";
        Exception inScan = assertThrows(Exception.class, () -> spark.sql(all).collectAsList());
        spark.conf().set(ComputedColumns.ENABLED, "false");
        try {
            Exception onRows =
                    assertThrows(Exception.class, () -> spark.sql(all).collectAsList());
            assertTrue(rootMessage(onRows).contains("sub-byte floats"), rootMessage(onRows));
            assertEquals(rootMessage(onRows), rootMessage(inScan));
        } finally {
            spark.conf().unset(ComputedColumns.ENABLED);
        }
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage();
    }
}
