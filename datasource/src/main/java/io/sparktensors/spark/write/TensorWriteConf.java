package io.sparktensors.spark.write;

import io.sparktensors.checkpoint.ByteSizes;
import io.sparktensors.checkpoint.ShardPlanner;
import io.sparktensors.errors.TensorErrors;
import io.sparktensors.errors.WriteErrors;
import io.sparktensors.format.DType;
import io.sparktensors.format.FloatConversion;
import java.io.Serializable;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Write options parsed and checked once on the driver.
 *
 * @param path the target folder
 * @param metadata every shard's __metadata__, sorted by key
 * @param dtype the dtype floating tensors are converted to, or null
 */
public record TensorWriteConf(
        String path, long maxShardSize, String filePrefix, SortedMap<String, String> metadata, DType dtype)
        implements Serializable {

    public static TensorWriteConf parse(Map<String, String> options) {
        Map<String, String> lower = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        lower.putAll(options);
        String path = lower.get("path");
        if (path == null || path.isEmpty()) {
            throw TensorErrors.missing("path", "Use df.write.format(\"safetensors\").save(path)");
        }
        long maxShardSize = ByteSizes.parse(lower.getOrDefault(TensorWriteOptions.MAX_SHARD_SIZE, "5GB"));
        String prefix = ShardPlanner.checkPrefix(lower.getOrDefault(TensorWriteOptions.FILE_PREFIX, "model"));
        SortedMap<String, String> metadata = new TreeMap<>();
        metadata.put("format", "pt");
        for (Map.Entry<String, String> e : options.entrySet()) {
            if (e.getKey().toLowerCase(Locale.ROOT).startsWith(TensorWriteOptions.METADATA_PREFIX)) {
                metadata.put(e.getKey().substring(TensorWriteOptions.METADATA_PREFIX.length()), e.getValue());
            }
        }
        DType dtype = null;
        String dtypeText = lower.get(TensorWriteOptions.DTYPE);
        if (dtypeText != null) {
            dtype = DType.fromCode(dtypeText.trim().toUpperCase(Locale.ROOT));
            if (dtype == null || !FloatConversion.isTarget(dtype)) {
                throw WriteErrors.badTargetDtype(dtypeText);
            }
        }
        return new TensorWriteConf(path, maxShardSize, prefix, metadata, dtype);
    }
}
