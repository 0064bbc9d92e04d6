package io.sparktensors.spark.reshard;

import io.sparktensors.checkpoint.ShardPlanner;
import io.sparktensors.errors.TensorErrors;
import io.sparktensors.errors.WriteErrors;
import io.sparktensors.format.DType;
import io.sparktensors.format.FloatConversion;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What a re-shard job changes: shard size, dtype, which tensors, their names.
 *
 * @param maxShardSize most tensor bytes per output shard
 * @param dtype convert floating tensors to this (F32, F16, BF16), or null to keep dtypes
 * @param include keep only tensors whose name this finds (null: all)
 * @param exclude drop tensors whose name this finds (null: none)
 * @param renames applied in order to each kept name ({@code replaceAll})
 * @param filePrefix output file prefix
 * @param overwrite replace the target's contents; otherwise the target must not exist
 * @param readOptions options of the source read (e.g. ignoreCorruptFiles, fs.s3a.*)
 */
public record ReshardOptions(
        long maxShardSize,
        DType dtype,
        Pattern include,
        Pattern exclude,
        List<Rename> renames,
        String filePrefix,
        boolean overwrite,
        Map<String, String> readOptions)
        implements Serializable {

    /** A name rewrite: every match of {@code pattern} is replaced by {@code replacement}. */
    public record Rename(Pattern pattern, String replacement) implements Serializable {
        /** Parses {@code REGEX=REPLACEMENT} (the first '=' splits them). */
        public static Rename parse(String text) {
            int eq = text.indexOf('=');
            if (eq <= 0) {
                throw TensorErrors.cannot("read the rename '" + text + "'", "a rename is REGEX=REPLACEMENT", null);
            }
            return new Rename(Pattern.compile(text.substring(0, eq)), text.substring(eq + 1));
        }
    }

    public ReshardOptions {
        renames = List.copyOf(renames);
        readOptions = Map.copyOf(readOptions);
        ShardPlanner.checkPrefix(filePrefix);
        if (maxShardSize <= 0) {
            throw TensorErrors.cannot(
                    "plan shards of " + maxShardSize + " bytes", "the shard size must be positive", null);
        }
        if (dtype != null && !FloatConversion.isTarget(dtype)) {
            throw WriteErrors.badTargetDtype(dtype.code());
        }
    }

    /** Defaults: 5GB shards, no conversion, every tensor, no renames, prefix model, no overwrite. */
    public static ReshardOptions defaults() {
        return new ReshardOptions(5_000_000_000L, null, null, null, List.of(), "model", false, Map.of());
    }

    public ReshardOptions withMaxShardSize(long bytes) {
        return new ReshardOptions(bytes, dtype, include, exclude, renames, filePrefix, overwrite, readOptions);
    }

    public ReshardOptions withDtype(DType target) {
        return new ReshardOptions(maxShardSize, target, include, exclude, renames, filePrefix, overwrite, readOptions);
    }

    public ReshardOptions withInclude(String regex) {
        return new ReshardOptions(
                maxShardSize, dtype, Pattern.compile(regex), exclude, renames, filePrefix, overwrite, readOptions);
    }

    public ReshardOptions withExclude(String regex) {
        return new ReshardOptions(
                maxShardSize, dtype, include, Pattern.compile(regex), renames, filePrefix, overwrite, readOptions);
    }

    public ReshardOptions withRename(Rename rename) {
        List<Rename> all = new ArrayList<>(renames);
        all.add(rename);
        return new ReshardOptions(maxShardSize, dtype, include, exclude, all, filePrefix, overwrite, readOptions);
    }

    public ReshardOptions withFilePrefix(String prefix) {
        return new ReshardOptions(maxShardSize, dtype, include, exclude, renames, prefix, overwrite, readOptions);
    }

    public ReshardOptions withOverwrite(boolean replace) {
        return new ReshardOptions(maxShardSize, dtype, include, exclude, renames, filePrefix, replace, readOptions);
    }

    public ReshardOptions withReadOptions(Map<String, String> options) {
        return new ReshardOptions(maxShardSize, dtype, include, exclude, renames, filePrefix, overwrite, options);
    }

    /** The output name of {@code name}, or null when the tensor is not kept. */
    public String outputName(String name) {
        if ((include != null && !include.matcher(name).find())
                || (exclude != null && exclude.matcher(name).find())) {
            return null;
        }
        String out = name;
        for (Rename r : renames) {
            out = r.pattern().matcher(out).replaceAll(r.replacement());
        }
        return out;
    }
}
