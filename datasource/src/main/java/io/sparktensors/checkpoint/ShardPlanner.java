package io.sparktensors.checkpoint;

import io.sparktensors.errors.WriteErrors;
import io.sparktensors.format.safetensors.HeaderWriter;
import io.sparktensors.format.safetensors.TensorEntry;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Assigns tensors to shards with huggingface_hub's greedy rule ({@code split_state_dict_into_shards_factory}),
 * over tensors in name order: a tensor larger than the limit gets a shard of its own (placed where it is
 * met, before the shard being filled); otherwise a tensor that would tip the current shard over the limit
 * starts a new one. One shard is named {@code PREFIX.safetensors}; several
 * {@code PREFIX-00001-of-0000N.safetensors}.
 */
public final class ShardPlanner {
    private ShardPlanner() {}

    /** Checks a shard file prefix is a plain file name that readers will not skip (no leading '.' or '_'). */
    public static String checkPrefix(String prefix) {
        if (prefix == null
                || prefix.isEmpty()
                || prefix.contains("/")
                || prefix.contains("\\")
                || prefix.startsWith(".")
                || prefix.startsWith("_")) {
            throw WriteErrors.badPrefix(prefix);
        }
        return prefix;
    }

    /**
     * @param tensors the output tensors (their final names and dtypes), in any order
     * @param maxShardSize the limit on a shard's tensor bytes
     * @param prefix file name prefix, normally {@code model}
     * @param metadata every shard's {@code __metadata__} in the order to write it (null: none)
     * @throws IllegalArgumentException for a duplicate name
     */
    public static ShardPlan plan(
            List<HeaderWriter.Spec> tensors, long maxShardSize, String prefix, Map<String, String> metadata) {
        checkPrefix(prefix);
        List<HeaderWriter.Spec> byName = new ArrayList<>(tensors);
        byName.sort((a, b) -> HeaderWriter.NAME_ORDER.compare(a.name(), b.name()));
        Set<String> seen = new HashSet<>();
        List<List<HeaderWriter.Spec>> groups = new ArrayList<>();
        List<HeaderWriter.Spec> current = new ArrayList<>();
        long currentSize = 0;
        long totalSize = 0;
        long totalParameters = 0;
        for (HeaderWriter.Spec t : byName) {
            if (!seen.add(t.name())) {
                throw WriteErrors.duplicateTensor(t.name());
            }
            long size = t.byteLength();
            totalSize += size;
            totalParameters += TensorEntry.elementCount(t.shape());
            if (size > maxShardSize) {
                groups.add(List.of(t));
                continue;
            }
            if (currentSize + size > maxShardSize && !current.isEmpty()) {
                groups.add(current);
                current = new ArrayList<>();
                currentSize = 0;
            }
            current.add(t);
            currentSize += size;
        }
        if (!current.isEmpty() || groups.isEmpty()) {
            groups.add(current);
        }
        List<ShardPlan.Shard> shards = new ArrayList<>();
        for (int i = 0; i < groups.size(); i++) {
            String fileName = groups.size() == 1
                    ? prefix + ".safetensors"
                    : String.format(java.util.Locale.ROOT, "%s-%05d-of-%05d.safetensors", prefix, i + 1, groups.size());
            List<TensorEntry> layout = HeaderWriter.layout(groups.get(i));
            shards.add(new ShardPlan.Shard(fileName, HeaderWriter.write(metadata, layout), layout));
        }
        return new ShardPlan(prefix, shards, totalSize, totalParameters);
    }
}
