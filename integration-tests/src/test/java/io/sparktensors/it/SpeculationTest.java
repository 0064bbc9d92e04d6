package io.sparktensors.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.checkpoint.ByteSizes;
import io.sparktensors.spark.reshard.CheckpointReshard;
import io.sparktensors.spark.reshard.ReshardOptions;
import io.sparktensors.testing.FaultyFileSystem;
import io.sparktensors.testing.SparkSessions;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.deploy.master.Master$;
import org.apache.spark.deploy.worker.Worker$;
import org.apache.spark.rpc.RpcEnv;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import scala.Option;

/**
 * Speculative execution for real: a standalone master and two workers started by the test on two loopback
 * addresses (127.0.0.1 and 127.0.0.2, so Spark sees two hosts and may run a task's copy on the other), with
 * speculation on and the first attempt of one shard's task held back. The copy overtakes it; the output is
 * byte for byte what a clean run writes, with no duplicate or leftover file.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SpeculationTest {
    private static final List<RpcEnv> ENVS = new ArrayList<>();
    private static SparkSession spark;
    private static final AtomicInteger SPECULATIVE_SUCCESSES = new AtomicInteger();

    @TempDir
    static Path work;

    @BeforeAll
    static void start() throws Exception {
        SparkConf conf = new SparkConf();
        RpcEnv master = (RpcEnv)
                Master$.MODULE$.startRpcEnvAndEndpoint("127.0.0.1", 0, 0, conf)._1();
        ENVS.add(master);
        String url = "spark://127.0.0.1:" + master.address().port();
        for (String host : List.of("127.0.0.1", "127.0.0.2")) {
            File dir = Files.createDirectories(work.resolve("worker-" + host)).toFile();
            ENVS.add(Worker$.MODULE$.startRpcEnvAndEndpoint(
                    host,
                    0,
                    0,
                    1,
                    1024,
                    new String[] {url},
                    dir.toString(),
                    Option.empty(),
                    new SparkConf(),
                    Option.empty()));
        }
        spark = Harness.awaitExecutors(
                Harness.executorJvms(SparkSessions.builder("SpeculationTest", url), "768m")
                        .config("spark.speculation", "true")
                        .config("spark.speculation.interval", "100ms")
                        .config("spark.speculation.quantile", "0.5")
                        .config("spark.speculation.multiplier", "2")
                        .config("spark.speculation.minTaskRuntime", "500ms")
                        .getOrCreate(),
                2);
        assertEquals(3, spark.sparkContext().getExecutorMemoryStatus().size(), "driver and an executor per host");
        spark.sparkContext().addSparkListener(new SparkListener() {
            @Override
            public void onTaskEnd(SparkListenerTaskEnd end) {
                if (end.taskInfo().speculative() && end.taskInfo().successful()) {
                    SPECULATIVE_SUCCESSES.incrementAndGet();
                }
            }
        });
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
        for (int i = ENVS.size() - 1; i >= 0; i--) {
            ENVS.get(i).shutdown();
        }
    }

    private static Map<String, byte[]> files(Path folder) throws Exception {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> files = Files.list(folder)) {
            for (Path f : files.toList()) {
                out.put(f.getFileName().toString(), Files.isDirectory(f) ? new byte[0] : Files.readAllBytes(f));
            }
        }
        return out;
    }

    @Test
    void aSpeculativeCopyOvertakesASlowTaskAndTheOutputIsExactlyAClean() throws Exception {
        ReshardOptions options = ReshardOptions.defaults().withMaxShardSize(ByteSizes.parse("100KB"));
        Path clean = work.resolve("clean");
        CheckpointReshard.run(spark, DemoCheckpoint.path().toString(), clean.toString(), options);

        // The first attempt to create the first shard is held back a minute by the test file system.
        FaultyFileSystem.settings().forEach(spark.conf()::set);
        spark.conf().set(FaultyFileSystem.SLOW_FILE, "-00001-of-");
        spark.conf().set(FaultyFileSystem.SLOW_MILLIS, "60000");
        try {
            Path speculated = work.resolve("speculated");
            long t0 = System.nanoTime();
            CheckpointReshard.run(spark, DemoCheckpoint.path().toString(), FaultyFileSystem.path(speculated), options);
            assertTrue(
                    System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(50), "the job did not wait for the slow attempt");
            Path written = work.resolve("written");
            spark.read()
                    .format("safetensors")
                    .load(DemoCheckpoint.path().toString())
                    .write()
                    .format("safetensors")
                    .option("maxShardSize", "100KB")
                    .save(FaultyFileSystem.path(written));
            assertTrue(SPECULATIVE_SUCCESSES.get() >= 2, "speculative copies won: " + SPECULATIVE_SUCCESSES.get());
            Map<String, byte[]> expected = files(clean);
            for (Path out : List.of(speculated, written)) {
                Map<String, byte[]> actual = files(out);
                if (out == written) { // the DataFrame writer writes tensors only; the re-shard job also copies configs
                    expected.keySet().removeIf(name -> !name.startsWith("model"));
                }
                assertEquals(
                        expected.keySet(), actual.keySet(), "the same files, no duplicate, no staging left: " + out);
                expected.forEach((name, bytes) -> assertArrayEquals(bytes, actual.get(name), out + "/" + name));
            }
        } finally {
            spark.conf().unset(FaultyFileSystem.SLOW_FILE);
        }
    }
}
