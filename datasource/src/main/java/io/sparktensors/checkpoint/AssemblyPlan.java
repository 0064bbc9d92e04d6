package io.sparktensors.checkpoint;

import io.sparktensors.errors.WriteErrors;
import io.sparktensors.format.DType;
import io.sparktensors.format.FloatConversion;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorData;
import io.sparktensors.format.TensorDecoder;
import io.sparktensors.format.safetensors.HeaderWriter;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How a Hugging Face checkpoint is assembled from bytes that already exist: the output shards (names,
 * headers, tensors in order) and, for every output tensor, the runs of source bytes it is copied from, in
 * order. The writer (from its staged parts, or straight from a scan's files) and the re-shard job (from the
 * source checkpoint) each build one with {@link Builder}; shard assembly then only executes it. Immutable.
 *
 * @param shards the output shards
 * @param sources where each output tensor's bytes come from, by output name
 */
public record AssemblyPlan(ShardPlan shards, Map<String, Source> sources) implements Serializable {

    public AssemblyPlan {
        Objects.requireNonNull(shards, "shards");
        sources = Map.copyOf(sources);
    }

    /** Tensors in the plan. */
    public int tensorCount() {
        return sources.size();
    }

    /**
     * A run of a tensor's bytes in a file; or, with a decoder, a whole tensor of {@code rows} rows along
     * dimension 0 that the decoder produces from the file ({@code length} is then the decoded length).
     */
    public record Range(String file, long fileLength, long offset, long length, TensorDecoder decoder, long rows)
            implements Serializable {

        public Range {
            Objects.requireNonNull(file, "file");
        }

        /** A plain run of bytes. */
        public Range(String file, long fileLength, long offset, long length) {
            this(file, fileLength, offset, length, null, 0);
        }

        /**
         * The ranges of a listed tensor: its byte range, the plain runs its decoder stands for (a tensor split by
         * rows among files is copied as it is), or its decoder's whole output.
         */
        public static List<Range> of(StoredTensor t) {
            TensorData d = t.data();
            List<TensorDecoder.FileRun> runs =
                    d.decoder() == null ? null : d.decoder().plainRuns();
            if (runs != null) {
                List<Range> out = new ArrayList<>(runs.size());
                for (TensorDecoder.FileRun r : runs) {
                    out.add(new Range(r.location(), r.fileLength(), r.offset(), r.length()));
                }
                return out;
            }
            return List.of(new Range(d.location(), d.fileLength(), d.offset(), d.length(), d.decoder(), t.rows()));
        }
    }

    /** Where an output tensor's bytes come from, in order, and their dtype there. */
    public record Source(DType dtype, List<Range> ranges) implements Serializable {
        public Source {
            Objects.requireNonNull(dtype, "dtype");
            ranges = List.copyOf(ranges);
        }
    }

    /** A new plan, tensor by tensor. */
    public static Builder builder() {
        return new Builder();
    }

    /** Collects output tensors and their sources; {@link #build} lays out the shards. Not thread-safe. */
    public static final class Builder {
        private final Map<String, Source> sources = new HashMap<>();
        private final Map<String, long[]> shapes = new HashMap<>();

        private Builder() {}

        /** Whether an output tensor of this name was added. */
        public boolean contains(String name) {
            return sources.containsKey(name);
        }

        /**
         * Adds an output tensor.
         *
         * @param name its output name
         * @param dtype its dtype in the source (converted at build time when a target dtype is given)
         * @param shape its shape
         * @param ranges its bytes in the source, in order
         * @throws IllegalArgumentException when the name was added before
         */
        public Builder add(String name, DType dtype, long[] shape, List<Range> ranges) {
            if (sources.putIfAbsent(name, new Source(dtype, ranges)) != null) {
                throw WriteErrors.duplicateTensor(name);
            }
            shapes.put(name, shape.clone());
            return this;
        }

        /**
         * Lays out the shards with huggingface_hub's rule ({@link ShardPlanner}).
         *
         * @param targetDtype floating tensors are converted to this, or null to keep dtypes
         * @param metadata every shard's {@code __metadata__}
         */
        public AssemblyPlan build(
                DType targetDtype, long maxShardSize, String filePrefix, Map<String, String> metadata) {
            List<HeaderWriter.Spec> specs = new ArrayList<>(sources.size());
            sources.forEach((name, source) -> specs.add(new HeaderWriter.Spec(
                    name, FloatConversion.outputDtype(source.dtype(), targetDtype), shapes.get(name))));
            return new AssemblyPlan(ShardPlanner.plan(specs, maxShardSize, filePrefix, metadata), sources);
        }
    }
}
