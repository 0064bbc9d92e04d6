package io.sparktensors.checkpoint;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.sparktensors.errors.MalformedTensorFileException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A Hugging Face {@code *.safetensors.index.json}: which shard holds each tensor. Shard names must be plain
 * file names beside the index, so an index can never point outside its folder.
 *
 * @param location where the index was read from
 * @param metadata the {@code metadata} object's scalar values as text (e.g. {@code total_size})
 * @param weightMap tensor name to shard file name
 */
public record HfIndex(String location, Map<String, String> metadata, Map<String, String> weightMap) {
    /** The file name that marks a sharded Hugging Face safetensors checkpoint. */
    public static final String SAFETENSORS_INDEX = "model.safetensors.index.json";

    private static final JsonFactory JSON = JsonFactory.builder().build();

    public HfIndex {
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        weightMap = Collections.unmodifiableMap(new TreeMap<>(weightMap));
    }

    /** The shard file names, sorted. */
    public TreeSet<String> shards() {
        return new TreeSet<>(weightMap.values());
    }

    /** Parses an index; {@code bytes} were bounded by the caller. */
    public static HfIndex parse(String location, byte[] bytes) throws MalformedTensorFileException {
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, String> weightMap = null;
        try (JsonParser p = JSON.createParser(bytes)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw fault(location, "the index is not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                if ("weight_map".equals(field)) {
                    if (weightMap != null) {
                        throw fault(location, "the index has two weight_map objects");
                    }
                    weightMap = parseWeightMap(location, p);
                } else if ("metadata".equals(field) && p.currentToken() == JsonToken.START_OBJECT) {
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String key = p.currentName();
                        if (p.nextToken().isScalarValue()) {
                            metadata.put(key, p.getText());
                        } else {
                            p.skipChildren();
                        }
                    }
                } else {
                    p.skipChildren();
                }
            }
        } catch (MalformedTensorFileException e) {
            throw e;
        } catch (IOException e) {
            throw new MalformedTensorFileException(location, null, "the index is not valid JSON: " + e.getMessage(), e);
        }
        if (weightMap == null) {
            throw fault(location, "the index has no weight_map object");
        }
        return new HfIndex(location, metadata, weightMap);
    }

    private static Map<String, String> parseWeightMap(String location, JsonParser p) throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw fault(location, "weight_map must be a JSON object of tensor name to shard file name");
        }
        Map<String, String> map = new TreeMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String tensor = p.currentName();
            if (p.nextToken() != JsonToken.VALUE_STRING) {
                throw new MalformedTensorFileException(location, tensor, "weight_map values must be shard file names");
            }
            String shard = p.getText();
            if (!isPlainFileName(shard)) {
                throw new MalformedTensorFileException(
                        location,
                        tensor,
                        "the shard name '"
                                + MalformedTensorFileException.printable(shard)
                                + "' is not a plain file name beside the index; shards outside the checkpoint folder are refused");
            }
            if (map.put(tensor, shard) != null) {
                throw new MalformedTensorFileException(location, tensor, "weight_map lists the tensor twice");
            }
        }
        return map;
    }

    /**
     * Checks the weight map against what the shard headers hold.
     *
     * @param shardTensors for each shard that exists and was read, the tensor names in its header
     * @param skippedShards shards left out on purpose (missing or corrupt, under ignoreMissingFiles or
     *     ignoreCorruptFiles); their tensors are not checked
     * @return tensors found in shards but not listed in the weight map, as "shard: tensor" lines
     * @throws MalformedTensorFileException for a shard that does not exist or a listed tensor it lacks
     */
    public List<String> verify(Map<String, Set<String>> shardTensors, Set<String> skippedShards)
            throws MalformedTensorFileException {
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            String shard = e.getValue();
            if (skippedShards.contains(shard)) {
                continue;
            }
            Set<String> present = shardTensors.get(shard);
            if (present == null) {
                throw new MalformedTensorFileException(
                        location,
                        e.getKey(),
                        "the index places it in shard '" + shard
                                + "', which does not exist beside the index. Restore the shard, or read the shards that exist "
                                + "by their file names.");
            }
            if (!present.contains(e.getKey())) {
                throw new MalformedTensorFileException(
                        location,
                        e.getKey(),
                        "the index places it in shard '" + shard
                                + "', but that shard's header has no such tensor. The index and the shards disagree.");
            }
        }
        List<String> unlisted = new ArrayList<>();
        for (Map.Entry<String, Set<String>> e : new TreeMap<>(shardTensors).entrySet()) {
            for (String tensor : new TreeSet<>(e.getValue())) {
                if (!e.getKey().equals(weightMap.get(tensor))) {
                    unlisted.add(e.getKey() + ": " + tensor);
                }
            }
        }
        return unlisted;
    }

    static boolean isPlainFileName(String name) {
        return !name.isEmpty()
                && !name.equals(".")
                && !name.equals("..")
                && name.indexOf('/') < 0
                && name.indexOf('\\') < 0
                && name.indexOf('\0') < 0
                && name.indexOf(':') < 0;
    }

    private static MalformedTensorFileException fault(String location, String fault) {
        return new MalformedTensorFileException(location, null, fault);
    }
}
