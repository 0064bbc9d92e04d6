package io.sparktensors.format.pytorch;

import io.sparktensors.format.DType;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * What a pickled {@code torch.distributed.tensor.DTensor} says of the tensor whose local shard one rank saved:
 * read from its {@code DTensorSpec} by fixed field names, nothing called. The local shard itself is listed as
 * the tensor of the same name.
 *
 * @param shape the full (global) tensor's shape ({@code TensorMeta.shape})
 * @param dtype the full tensor's dtype
 * @param meshShape the device mesh's size along each of its dimensions
 * @param coordinate this rank's coordinate in the mesh ({@code _coordinate_on_dim}), checked against where the
 *     rank sits in the mesh's rank map when the file records it
 * @param rank the global rank that saved the file ({@code DeviceMesh._rank}), or -1 when not recorded
 * @param placements one per mesh dimension
 */
public record DTensorSpec(
        long[] shape, DType dtype, long[] meshShape, long[] coordinate, long rank, List<Placement> placements) {

    public DTensorSpec {
        shape = shape.clone();
        meshShape = meshShape.clone();
        coordinate = coordinate.clone();
        placements = List.copyOf(placements);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public long[] meshShape() {
        return meshShape.clone();
    }

    @Override
    public long[] coordinate() {
        return coordinate.clone();
    }

    /** Devices in the mesh. */
    public long meshSize() {
        long n = 1;
        for (long s : meshShape) {
            n = Math.multiplyExact(n, s);
        }
        return n;
    }

    /** Whether two ranks' specs describe the same distributed tensor (all but the coordinate and rank). */
    public boolean sameTensor(DTensorSpec other) {
        return Arrays.equals(shape, other.shape)
                && dtype == other.dtype
                && Arrays.equals(meshShape, other.meshShape)
                && placements.equals(other.placements);
    }

    /** The layout as torch prints it: {@code (Shard(dim=0), Replicate()) on a mesh of (2, 2)}. */
    public String layout() {
        return placements.stream().map(Placement::toString).collect(Collectors.joining(", ", "(", ")"))
                + " on a mesh of " + Arrays.toString(meshShape);
    }

    /** How a mesh dimension places the tensor. */
    public enum Kind {
        /** Every device along the mesh dimension holds the same values. */
        REPLICATE,
        /** {@code Shard(dim)}: split along {@code dim} as {@code torch.chunk} splits it. */
        SHARD,
        /**
         * {@code _StridedShard(dim, split_factor)}: split into {@code split_factor} pieces first, each of those
         * split as {@code Shard} splits, the device taking its part of every piece (FSDP2 over tensor parallel).
         */
        STRIDED_SHARD
    }

    /**
     * One mesh dimension's placement.
     *
     * @param dim the tensor dimension split (unused for {@link Kind#REPLICATE})
     * @param splitFactor the split factor of a {@link Kind#STRIDED_SHARD}, else 1
     */
    public record Placement(Kind kind, int dim, long splitFactor) {
        @Override
        public String toString() {
            return switch (kind) {
                case REPLICATE -> "Replicate()";
                case SHARD -> "Shard(dim=" + dim + ")";
                case STRIDED_SHARD -> "_StridedShard(dim=" + dim + ", sf=" + splitFactor + ")";
            };
        }
    }
}
