package io.sparktensors.format.pytorch;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Chooses which names to drop among tensors that share storage, as safetensors' converter
 * ({@code convert.py}, {@code _remove_duplicate_names}) does for tied weights: tensors on one storage whose
 * byte ranges overlap form a group; in a group of two or more, the first name in sorted order among the
 * "complete" ones (covering the whole storage from its start) is kept, and every other name that is the
 * very same view of the storage (same bytes, dtype, shape and strides) is dropped, recorded as
 * {@code dropped -> kept}.
 *
 * <p>Deviations, so no value is ever lost: convert.py also drops views that only overlap the kept one (a
 * row slice, a transpose), which reloads them with the wrong values; here such views stay tensors of their
 * own, read through their view. A group with no complete name keeps every name (convert.py stops with an
 * error). Overlap is judged against the furthest end seen so far in the group, where convert.py compares
 * with the previous range's end only.
 */
final class SharedStorages {
    private SharedStorages() {}

    /**
     * A tensor's bytes within its storage.
     *
     * @param start first byte of the view
     * @param end one past the last byte of its last element ({@code start} when it is empty)
     * @param nbytes bytes of its elements
     */
    record View(String name, String storageKey, long storageBytes, long start, long end, long nbytes, String layout) {
        boolean complete() {
            return start == 0 && nbytes == storageBytes;
        }

        boolean sameViewAs(View other) {
            return start == other.start && end == other.end && nbytes == other.nbytes && layout.equals(other.layout);
        }
    }

    /** The dropped names, each mapped to the name kept in its place, in order of storage and name. */
    static Map<String, String> dropped(List<View> views) {
        Map<String, List<View>> byStorage = new TreeMap<>();
        for (View v : views) {
            if (v.storageBytes() > 0) {
                byStorage
                        .computeIfAbsent(v.storageKey(), k -> new ArrayList<>())
                        .add(v);
            }
        }
        Map<String, String> dropped = new LinkedHashMap<>();
        for (List<View> onStorage : byStorage.values()) {
            onStorage.sort(Comparator.comparingLong(View::start)
                    .thenComparingLong(View::end)
                    .thenComparing(View::name, SharedStorages::compareCodePoints));
            List<View> group = new ArrayList<>();
            long groupEnd = Long.MIN_VALUE;
            for (View v : onStorage) {
                if (!group.isEmpty() && v.start() >= groupEnd) {
                    drop(group, dropped);
                    group.clear();
                }
                group.add(v);
                groupEnd = Math.max(groupEnd, v.end());
            }
            drop(group, dropped);
        }
        return dropped;
    }

    private static void drop(List<View> group, Map<String, String> dropped) {
        View kept = null;
        for (View v : group) {
            if (v.complete() && (kept == null || compareCodePoints(v.name(), kept.name()) < 0)) {
                kept = v;
            }
        }
        if (group.size() < 2 || kept == null) {
            return;
        }
        List<String> names = new ArrayList<>();
        for (View v : group) {
            if (v != kept && v.sameViewAs(kept)) {
                names.add(v.name());
            }
        }
        names.sort(SharedStorages::compareCodePoints);
        for (String name : names) {
            dropped.put(name, kept.name());
        }
    }

    /** Python's string order (by code point), which differs from Java's for characters beyond U+FFFF. */
    static int compareCodePoints(String a, String b) {
        return java.util.Arrays.compare(a.codePoints().toArray(), b.codePoints().toArray());
    }
}
