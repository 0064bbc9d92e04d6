package io.sparktensors.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.sparktensors.testing.SparkTestBase;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.junit.jupiter.api.Test;

class ConfBroadcastsTest extends SparkTestBase {
    @Test
    void theSameSettingsShareOneBroadcastAndAChangedSettingMakesANewOne() {
        Configuration conf = spark.sessionState().newHadoopConf();
        conf.set("fs.example.endpoint", "http://one");
        Broadcast<SerializableConfiguration> first = ConfBroadcasts.of(spark.sparkContext(), conf);
        Broadcast<SerializableConfiguration> again =
                ConfBroadcasts.of(spark.sparkContext(), new Configuration(conf)); // another object, same content
        assertEquals(first.id(), again.id());

        conf.set("fs.example.endpoint", "http://two");
        Broadcast<SerializableConfiguration> changed = ConfBroadcasts.of(spark.sparkContext(), conf);
        assertNotEquals(first.id(), changed.id());
        assertEquals("http://one", first.value().get().get("fs.example.endpoint"), "a copy was broadcast");
        List<String> seen = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(List.of(1), 1)
                .map(i -> changed.value().get().get("fs.example.endpoint"))
                .collect();
        assertEquals(List.of("http://two"), seen);
    }

    @Test
    void onlyAFewConfigurationsAreKept() {
        Configuration conf = spark.sessionState().newHadoopConf();
        conf.set("fs.example.n", "0");
        long first = ConfBroadcasts.of(spark.sparkContext(), conf).id();
        for (int i = 1; i <= ConfBroadcasts.KEPT; i++) {
            conf.set("fs.example.n", Integer.toString(i));
            ConfBroadcasts.of(spark.sparkContext(), conf);
        }
        conf.set("fs.example.n", "0");
        assertNotEquals(first, ConfBroadcasts.of(spark.sparkContext(), conf).id(), "the eldest was dropped");
    }

    @Test
    void settingsTravelAsNamesAndRawValues() throws Exception {
        Configuration conf = new Configuration(false);
        conf.set("base", "/data");
        conf.set("derived", "${base}/shards");
        String long64k = "x".repeat(70_000); // beyond writeUTF's 64 KB
        conf.set("long", long64k);
        conf.set("unicode", "Größe ✓");

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(new SerializableConfiguration(conf));
        }
        Configuration read;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            read = ((SerializableConfiguration) in.readObject()).get();
        }
        assertEquals(4, read.size());
        assertEquals("${base}/shards", read.getRaw("derived"));
        assertEquals("/data/shards", read.get("derived"));
        assertEquals(long64k, read.get("long"));
        assertEquals("Größe ✓", read.get("unicode"));
        assertNull(read.get("fs.defaultFS"), "no defaults added on the way");
    }
}
