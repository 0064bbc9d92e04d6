package io.sparktensors.spark.compat;

import java.util.List;
import java.util.Map;

/**
 * Scala collections to and from Java, on Scala 2.12 and 2.13 alike: through {@code scala.collection.JavaConverters},
 * which both versions have ({@code scala.jdk.javaapi} exists only in 2.13).
 */
@SuppressWarnings("deprecation") // JavaConverters is deprecated in 2.13 but is the one API both versions share
public final class ScalaCollections {
    private ScalaCollections() {}

    /** A Java view of a Scala sequence. */
    public static <T> List<T> asJava(scala.collection.Seq<T> seq) {
        return scala.collection.JavaConverters.seqAsJavaList(seq);
    }

    /** A Java view of a Scala map. */
    public static <K, V> Map<K, V> asJava(scala.collection.Map<K, V> map) {
        return scala.collection.JavaConverters.mapAsJavaMap(map);
    }

    /** An immutable Scala list of the elements (a {@code Seq} on either Scala version). */
    public static <T> scala.collection.immutable.List<T> toScalaList(List<T> list) {
        return scala.collection.JavaConverters.asScalaBuffer(list).toList();
    }
}
