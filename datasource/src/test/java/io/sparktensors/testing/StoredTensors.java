package io.sparktensors.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorListing;
import io.sparktensors.io.LocalInputFile;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;

/** Reads listed tensors from local files and checks them against a reference folder's expected.json. */
public final class StoredTensors {
    private StoredTensors() {}

    /** A local file's location: a path, or a {@code file:} URI as a Hadoop file store lists it. */
    private static Path path(String location) {
        return location.startsWith("file:") ? Path.of(java.net.URI.create(location)) : Path.of(location);
    }

    /** The whole tensor in the safetensors encoding. */
    public static byte[] bytes(StoredTensor t) {
        return rows(t, 0, t.rows());
    }

    /** Rows {@code [start, start + count)} along dimension 0, through the decoder when there is one. */
    public static byte[] rows(StoredTensor t, long start, long count) {
        long rowBytes = t.rows() == 0 ? 0 : t.data().length() / t.rows();
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(count * rowBytes));
        Map<String, SeekableInput> others = new HashMap<>();
        try (SeekableInput in = new LocalInputFile(path(t.data().location())).open(ReadPolicy.RANDOM)) {
            // A decoder may read other files (a DCP tensor's rank files): local ones, closed below.
            t.readRows(
                    in,
                    (location, length) -> {
                        SeekableInput other = others.get(location);
                        if (other == null) {
                            other = new LocalInputFile(path(location)).open(ReadPolicy.RANDOM);
                            others.put(location, other);
                        }
                        return other;
                    },
                    start,
                    count,
                    out);
            for (SeekableInput other : others.values()) {
                other.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertEquals(0, out.remaining(), "the bytes of " + t.name() + " filled their buffer");
        return out.array();
    }

    /**
     * Asserts the listing holds exactly the expected tensors (dtype, shape, SHA-256 of the bytes), except the
     * names in {@code dropped}, which must be absent, and that splittable decoders give the same bytes when
     * the rows are decoded in two parts.
     */
    public static void assertMatches(
            TensorListing listing, Map<String, Fixtures.Expected> expected, java.util.Set<String> dropped) {
        Map<String, StoredTensor> byName = new HashMap<>();
        for (StoredTensor t : listing.tensors()) {
            byName.put(t.name(), t);
        }
        TreeSet<String> wanted = new TreeSet<>(expected.keySet());
        wanted.removeAll(dropped);
        assertEquals(wanted, new TreeSet<>(byName.keySet()), "tensor names of " + listing.location());
        for (String name : wanted) {
            Fixtures.Expected e = expected.get(name);
            StoredTensor t = byName.get(name);
            assertEquals(e.dtype(), t.dtype().code(), "dtype of " + name);
            assertArrayEquals(e.shape(), t.shape(), "shape of " + name);
            assertEquals(e.nbytes(), t.data().length(), "length of " + name);
            byte[] all = bytes(t);
            assertEquals(e.sha256(), Hashes.sha256(all), "bytes of " + name + " (" + t.data() + ")");
            if (t.rank() > 0
                    && t.dim(0) > 1
                    && (t.data().isPlain() || t.data().decoder().splittable())) {
                long half = t.dim(0) / 2;
                byte[] a = rows(t, 0, half);
                byte[] b = rows(t, half, t.dim(0) - half);
                byte[] joined = Arrays.copyOf(a, a.length + b.length);
                System.arraycopy(b, 0, joined, a.length, b.length);
                assertTrue(Arrays.equals(all, joined), "rows of " + name + " decoded in two parts");
            }
        }
    }
}
