package io.sparktensors.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.SparkSession;

/**
 * An S3-compatible server (S3Proxy over a local folder) started as a child JVM on 127.0.0.1, so its
 * libraries stay off the test class path. One bucket, {@value #BUCKET}.
 */
final class S3Server implements AutoCloseable {
    static final String BUCKET = "checkpoints";
    static final String ACCESS_KEY = "spark-tensors";
    static final String SECRET_KEY = "spark-tensors-secret";

    private final Process process;
    private final int port;
    private final CountingProxy proxy;

    private S3Server(Process process, int port) throws IOException {
        this.process = process;
        this.port = port;
        this.proxy = new CountingProxy(port);
    }

    /** The proxy every client request passes through, counting them. */
    CountingProxy proxy() {
        return proxy;
    }

    static S3Server start(Path workDir) throws Exception {
        Path jar = Paths.get("target", "servers", "s3proxy.jar").toAbsolutePath();
        if (!Files.exists(jar)) {
            throw new IllegalStateException("S3Proxy jar missing at " + jar + ": run the tests through Maven");
        }
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path data = Files.createDirectories(workDir.resolve("s3-data"));
        Files.createDirectories(data.resolve(BUCKET));
        Path props = workDir.resolve("s3proxy.properties");
        Files.writeString(
                props,
                String.join(
                        "\n",
                        "s3proxy.endpoint=http://127.0.0.1:" + port,
                        "s3proxy.authorization=aws-v2-or-v4",
                        "s3proxy.identity=" + ACCESS_KEY,
                        "s3proxy.credential=" + SECRET_KEY,
                        "jclouds.provider=filesystem-nio2",
                        "jclouds.filesystem.basedir=" + data,
                        ""));
        Process p = new ProcessBuilder("java", "-Xmx512m", "-jar", jar.toString(), "--properties", props.toString())
                .redirectErrorStream(true)
                .redirectOutput(workDir.resolve("s3proxy.log").toFile())
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("S3Proxy exited: " + Files.readString(workDir.resolve("s3proxy.log")));
            }
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return new S3Server(p, port);
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        p.destroyForcibly();
        throw new IllegalStateException("S3Proxy did not start within 60 s");
    }

    /** The endpoint clients use: the counting proxy in front of the server. */
    String endpoint() {
        return "http://127.0.0.1:" + proxy.port();
    }

    /** The S3A settings that reach this server (and nothing beyond loopback). */
    Map<String, String> s3aSettings() {
        return Map.ofEntries(
                Map.entry("fs.s3a.endpoint", endpoint()),
                Map.entry("fs.s3a.endpoint.region", "us-east-1"),
                Map.entry("fs.s3a.path.style.access", "true"),
                Map.entry("fs.s3a.connection.ssl.enabled", "false"),
                Map.entry("fs.s3a.access.key", ACCESS_KEY),
                Map.entry("fs.s3a.secret.key", SECRET_KEY),
                Map.entry("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"),
                Map.entry("fs.s3a.multipart.size", "8M"),
                Map.entry("fs.s3a.multipart.threshold", "8M"),
                Map.entry("fs.s3a.connection.expect.continue", "false"),
                Map.entry("fs.s3a.retry.interval", "50ms"),
                Map.entry("fs.s3a.retry.throttle.interval", "50ms"),
                Map.entry("fs.s3a.buffer.dir", System.getProperty("java.io.tmpdir") + "/s3a"));
    }

    void configure(SparkSession.Builder builder) {
        s3aSettings().forEach((k, v) -> builder.config("spark.hadoop." + k, v));
    }

    @Override
    public void close() {
        try {
            proxy.close();
        } catch (IOException e) {
            // closing anyway
        }
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
