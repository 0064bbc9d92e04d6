package io.sparktensors.checkpoint;

import io.sparktensors.format.JsonStrings;
import io.sparktensors.format.safetensors.HeaderWriter;
import io.sparktensors.format.safetensors.TensorEntry;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Where every tensor of an output checkpoint goes: the shard files in the Hugging Face layout, each with its
 * tensors in the reference writer's order and its header bytes.
 *
 * @param prefix the file prefix ({@code model})
 * @param shards the shards, in file-name order
 * @param totalSize tensor bytes over all shards (the index's {@code metadata.total_size})
 * @param totalParameters elements over all shards
 */
public record ShardPlan(String prefix, List<Shard> shards, long totalSize, long totalParameters)
        implements Serializable {

    public ShardPlan {
        Objects.requireNonNull(prefix, "prefix");
        shards = List.copyOf(shards);
    }

    /**
     * One output file.
     *
     * @param fileName e.g. {@code model-00002-of-00005.safetensors}
     * @param header the eight length bytes and the padded JSON header
     * @param tensors the entries in file order, offsets relative to the data start
     */
    public record Shard(String fileName, byte[] header, List<TensorEntry> tensors) implements Serializable {
        public Shard {
            tensors = List.copyOf(tensors);
        }
    }

    /** Whether the checkpoint needs an index (more than one shard). */
    public boolean sharded() {
        return shards.size() > 1;
    }

    /** The index file name, e.g. {@code model.safetensors.index.json}. */
    public String indexFileName() {
        return prefix + ".safetensors.index.json";
    }

    /**
     * The index as transformers writes it ({@code json.dumps(index, indent=2, sort_keys=True) + "\n"}): metadata
     * with total_parameters and total_size, and the weight map sorted by name.
     */
    public byte[] indexJson() {
        Map<String, String> weightMap = new TreeMap<>(HeaderWriter.NAME_ORDER);
        for (Shard s : shards) {
            for (TensorEntry t : s.tensors()) {
                weightMap.put(t.name(), s.fileName());
            }
        }
        StringBuilder sb = new StringBuilder("{\n  \"metadata\": {\n");
        sb.append("    \"total_parameters\": ").append(totalParameters).append(",\n");
        sb.append("    \"total_size\": ").append(totalSize).append("\n  },\n  \"weight_map\": {");
        String sep = "\n";
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            sb.append(sep).append("    ");
            JsonStrings.append(sb, e.getKey(), true).append(": ");
            JsonStrings.append(sb, e.getValue(), true);
            sep = ",\n";
        }
        sb.append(weightMap.isEmpty() ? "}\n}\n" : "\n  }\n}\n");
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }
}
