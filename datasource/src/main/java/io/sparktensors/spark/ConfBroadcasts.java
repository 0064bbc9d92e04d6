package io.sparktensors.spark;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.WeakHashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * The Hadoop configuration of a scan, broadcast once for as long as its settings stay the same. Every query
 * builds a new configuration object from the session's settings; broadcasting each one cost the driver ~5-15
 * ms per query, and every executor fetched and read a fresh copy. Configurations are compared by content (all
 * names and raw values), so a setting changed in the session or a read option is always seen: it makes a new
 * broadcast. A few recent ones are kept per Spark context; an older one is dropped, and Spark removes it once
 * no query holds it.
 */
public final class ConfBroadcasts {
    /** Distinct configurations kept per Spark context (read options that set Hadoop keys make more). */
    static final int KEPT = 4;

    private static final Map<SparkContext, Map<Map<String, String>, Broadcast<SerializableConfiguration>>> BY_CONTEXT =
            new WeakHashMap<>();

    private ConfBroadcasts() {}

    /** A broadcast of a copy of {@code conf} (later changes to {@code conf} are not seen by it). */
    public static Broadcast<SerializableConfiguration> of(SparkContext sc, Configuration conf) {
        Map<String, String> settings = new HashMap<>();
        conf.forEach(e -> settings.put(e.getKey(), e.getValue()));
        synchronized (BY_CONTEXT) {
            Map<Map<String, String>, Broadcast<SerializableConfiguration>> kept =
                    BY_CONTEXT.computeIfAbsent(sc, k -> new LinkedHashMap<>(8, 0.75f, true) {
                        @Override
                        protected boolean removeEldestEntry(
                                Map.Entry<Map<String, String>, Broadcast<SerializableConfiguration>> eldest) {
                            return size() > KEPT;
                        }
                    });
            Broadcast<SerializableConfiguration> b = kept.get(settings);
            if (b == null) {
                b = JavaSparkContext.fromSparkContext(sc)
                        .broadcast(new SerializableConfiguration(new Configuration(conf)));
                kept.put(settings, b);
            }
            return b;
        }
    }
}
