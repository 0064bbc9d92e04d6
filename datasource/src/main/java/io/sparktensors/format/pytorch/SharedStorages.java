package io.sparktensors.format.pytorch;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Chooses which names to drop among tensors that share storage, as safetensors' converter
 * ({@code convert.py}, {@code _remove_duplicate_names}) does: tensors on one storage whose byte ranges
 * overlap form a group; in a group of two or more, the first name in sorted order among the "complete" ones
 * (covering the whole storage from its start) is kept and the others are dropped, each recorded as
 * {@code dropped -> kept}. A group with no complete name keeps every name: each reads its own correct bytes
 * (where convert.py would stop with an error). Views that do not overlap stay separate tensors.
 *
 * <p>One deviation: overlap is judged against the furthest end seen so far in the group, where convert.py
 * compares with the previous range's end only; so a range inside an earlier long one joins its group.
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
  record View(String name, String storageKey, long storageBytes, long start, long end, long nbytes) {
    boolean complete() {
      return start == 0 && nbytes == storageBytes;
    }
  }

  /** The dropped names, each mapped to the name kept in its place, in order of storage and name. */
  static Map<String, String> dropped(List<View> views) {
    Map<String, List<View>> byStorage = new TreeMap<>();
    for (View v : views) {
      if (v.storageBytes() > 0) {
        byStorage.computeIfAbsent(v.storageKey(), k -> new ArrayList<>()).add(v);
      }
    }
    Map<String, String> dropped = new LinkedHashMap<>();
    for (List<View> onStorage : byStorage.values()) {
      onStorage.sort(Comparator.comparingLong(View::start).thenComparingLong(View::end)
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
    String kept = null;
    for (View v : group) {
      if (v.complete() && (kept == null || compareCodePoints(v.name(), kept) < 0)) {
        kept = v.name();
      }
    }
    if (group.size() < 2 || kept == null) {
      return;
    }
    List<String> names = new ArrayList<>();
    group.forEach(v -> names.add(v.name()));
    names.sort(SharedStorages::compareCodePoints);
    for (String name : names) {
      if (!name.equals(kept)) {
        dropped.put(name, kept);
      }
    }
  }

  /** Python's string order (by code point), which differs from Java's for characters beyond U+FFFF. */
  static int compareCodePoints(String a, String b) {
    return java.util.Arrays.compare(a.codePoints().toArray(), b.codePoints().toArray());
  }
}
