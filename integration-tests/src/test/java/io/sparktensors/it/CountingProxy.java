package io.sparktensors.it;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small HTTP/1.1 reverse proxy in front of the S3 server: it counts the requests the server receives, GET
 * response bytes by object and upload bytes, and can fail a share of GET requests and of uploads. One thread per
 * client connection; requests on a connection are forwarded in turn. Faults are injected before the server sees
 * a request, so a retry is always safe.
 */
final class CountingProxy implements AutoCloseable {
    private final ServerSocket server;
    private final int upstreamPort;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "faulty-proxy");
        t.setDaemon(true);
        return t;
    });
    final AtomicLong gets = new AtomicLong();
    final AtomicLong heads = new AtomicLong();
    final AtomicLong puts = new AtomicLong();
    final AtomicLong posts = new AtomicLong();
    final AtomicLong getBytes = new AtomicLong();
    /** GET requests answered with an injected fault. */
    final AtomicLong injected = new AtomicLong();
    /** Uploads (PUT and POST requests) answered with an injected fault. */
    final AtomicLong injectedUploads = new AtomicLong();

    private volatile double getFailureRate;
    private volatile double uploadFailureRate;
    private final java.util.Random random = new java.util.Random(42);
    /** Request body bytes (uploads). */
    final AtomicLong uploadBytes = new AtomicLong();
    /** Request lines ("GET /bucket/key?query HTTP/1.1") in arrival order; GET bytes are counted per path. */
    final java.util.Queue<String> requests = new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** GET response bytes by request path (without query). */
    final java.util.Map<String, AtomicLong> getBytesByPath = new java.util.concurrent.ConcurrentHashMap<>();

    CountingProxy(int upstreamPort) throws IOException {
        this.upstreamPort = upstreamPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.submit(this::accept);
    }

    int port() {
        return server.getLocalPort();
    }

    /**
     * Fail this share of GET requests from now on: half answered 503 Slow Down, half with the connection
     * dropped before any answer. (GETs carry no body, so the connection state stays simple.)
     */
    void failGets(double rate) {
        getFailureRate = rate;
    }

    /**
     * Fail this share of PUT and POST requests (object and part uploads, server-side copies, multipart initiation
     * and completion, bulk deletes) from now on, before the server sees them: half answered 503 Slow Down once
     * the body has arrived, half with the connection dropped halfway through the body.
     */
    void failUploads(double rate) {
        uploadFailureRate = rate;
    }

    void reset() {
        gets.set(0);
        heads.set(0);
        puts.set(0);
        posts.set(0);
        getBytes.set(0);
        uploadBytes.set(0);
        injected.set(0);
        injectedUploads.set(0);
        requests.clear();
        getBytesByPath.clear();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                threads.submit(() -> serve(client));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket client) {
        try (client;
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), upstreamPort)) {
            InputStream fromClient = new BufferedInputStream(client.getInputStream());
            OutputStream toClient = client.getOutputStream();
            InputStream fromUpstream = new BufferedInputStream(upstream.getInputStream());
            OutputStream toUpstream = upstream.getOutputStream();
            while (true) {
                Head request = Head.read(fromClient);
                if (request == null) {
                    return;
                }
                String method = request.startLine.split(" ")[0].toUpperCase(Locale.ROOT);
                requests.add(request.startLine);
                switch (method) {
                    case "GET" -> gets.incrementAndGet();
                    case "HEAD" -> heads.incrementAndGet();
                    case "PUT" -> puts.incrementAndGet();
                    case "POST" -> posts.incrementAndGet();
                    default -> {}
                }
                if (method.equals("GET") && getFailureRate > 0) {
                    double draw;
                    synchronized (random) {
                        draw = random.nextDouble();
                    }
                    if (draw < getFailureRate) {
                        injected.incrementAndGet();
                        if (draw < getFailureRate / 2) {
                            return; // drop the connection without an answer
                        }
                        slowDown(toClient);
                        continue;
                    }
                }
                if ((method.equals("PUT") || method.equals("POST")) && uploadFailureRate > 0) {
                    double draw;
                    synchronized (random) {
                        draw = random.nextDouble();
                    }
                    if (draw < uploadFailureRate) {
                        injectedUploads.incrementAndGet();
                        if ("100-continue".equalsIgnoreCase(request.header("expect"))) {
                            toClient.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                            toClient.flush();
                        }
                        if (draw < uploadFailureRate / 2) {
                            String length = request.header("content-length");
                            long half = length == null ? 0 : Long.parseLong(length.trim()) / 2;
                            copy(fromClient, OutputStream.nullOutputStream(), half, null);
                            return; // drop the connection halfway through the upload
                        }
                        copyBody(request, fromClient, OutputStream.nullOutputStream(), null);
                        slowDown(toClient);
                        continue;
                    }
                }
                if ("100-continue".equalsIgnoreCase(request.header("expect"))) {
                    // Answer the interim response here and forward the request without Expect, as proxies may.
                    toClient.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    toClient.flush();
                    toUpstream.write(request.without("expect"));
                } else {
                    toUpstream.write(request.bytes);
                }
                copyBody(request, fromClient, toUpstream, uploadBytes);
                toUpstream.flush();
                Head response = Head.read(fromUpstream);
                if (response == null) {
                    return;
                }
                toClient.write(response.bytes);
                int status = Integer.parseInt(response.startLine.split(" ")[1]);
                if (!method.equals("HEAD") && status != 204 && status != 304) {
                    // Counted per response: other connections copy bodies at the same time.
                    AtomicLong bodyBytes = new AtomicLong();
                    copyBody(response, fromUpstream, toClient, bodyBytes);
                    if (method.equals("GET")) {
                        String path = request.startLine.split(" ")[1].split("\\?")[0];
                        getBytesByPath
                                .computeIfAbsent(path, k -> new AtomicLong())
                                .addAndGet(bodyBytes.get());
                        getBytes.addAndGet(bodyBytes.get());
                    }
                }
                toClient.flush();
                if ("close".equalsIgnoreCase(response.header("connection"))) {
                    return;
                }
            }
        } catch (IOException e) {
            // a client or server hung up: the connection ends
        }
    }

    private static void slowDown(OutputStream toClient) throws IOException {
        byte[] body =
                "<Error><Code>SlowDown</Code><Message>injected</Message></Error>".getBytes(StandardCharsets.UTF_8);
        toClient.write(("HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: " + body.length
                        + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        toClient.write(body);
        toClient.flush();
    }

    private static void copyBody(Head head, InputStream in, OutputStream out, AtomicLong counter) throws IOException {
        String length = head.header("content-length");
        if (length != null) {
            long n = Long.parseLong(length.trim());
            copy(in, out, n, counter);
        } else if ("chunked".equalsIgnoreCase(head.header("transfer-encoding"))) {
            while (true) {
                String sizeLine = readLine(in);
                out.write((sizeLine + "\r\n").getBytes(StandardCharsets.US_ASCII));
                int size = Integer.parseInt(sizeLine.split(";")[0].trim(), 16);
                if (size == 0) {
                    String trailer;
                    while (!(trailer = readLine(in)).isEmpty()) {
                        out.write((trailer + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    }
                    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                    return;
                }
                copy(in, out, size, counter);
                out.write((readLine(in) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            }
        }
    }

    private static void copy(InputStream in, OutputStream out, long n, AtomicLong counter) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        while (n > 0) {
            int r = in.read(buffer, 0, (int) Math.min(buffer.length, n));
            if (r < 0) {
                throw new IOException("unexpected end of body");
            }
            out.write(buffer, 0, r);
            n -= r;
            if (counter != null) {
                counter.addAndGet(r);
            }
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                break;
            }
            if (c != '\r') {
                line.write(c);
            }
        }
        if (c < 0 && line.size() == 0) {
            return null;
        }
        return line.toString(StandardCharsets.US_ASCII);
    }

    /** A request or response head: the start line and headers, and their raw bytes. */
    private record Head(String startLine, java.util.Map<String, String> headers, byte[] bytes) {
        String header(String name) {
            return headers.get(name);
        }

        /** The raw head without the named header. */
        byte[] without(String name) {
            StringBuilder sb = new StringBuilder();
            for (String line : new String(bytes, StandardCharsets.ISO_8859_1).split("\r\n")) {
                if (!line.toLowerCase(Locale.ROOT).startsWith(name + ":")) {
                    sb.append(line).append("\r\n");
                }
            }
            return sb.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
        }

        static Head read(InputStream in) throws IOException {
            String start = readLine(in);
            if (start == null || start.isEmpty()) {
                return null;
            }
            java.util.Map<String, String> headers = new java.util.HashMap<>();
            StringBuilder raw = new StringBuilder(start).append("\r\n");
            String line;
            while ((line = readLine(in)) != null && !line.isEmpty()) {
                raw.append(line).append("\r\n");
                int colon = line.indexOf(':');
                if (colon > 0) {
                    headers.put(
                            line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
                            line.substring(colon + 1).trim());
                }
            }
            raw.append("\r\n");
            return new Head(start, headers, raw.toString().getBytes(StandardCharsets.ISO_8859_1));
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }
}
