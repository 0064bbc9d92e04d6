package io.sparktensors.format.dcp;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.pytorch.DTensorSpec;
import io.sparktensors.format.pytorch.DTensorSpec.Kind;
import io.sparktensors.format.pytorch.DTensorSpec.Placement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Where a rank's local shard of a {@code DTensor} lies in the full tensor, by torch's rules
 * ({@code torch.distributed.tensor._utils._compute_local_shape_and_global_offset}): mesh dimensions are applied
 * left to right; {@code Shard(d)} splits the current extent of dimension {@code d} as {@code torch.chunk} does
 * (pieces of ceil(n / devices), the last ones smaller or empty) and the rank keeps the piece at its coordinate;
 * {@code _StridedShard(d, sf)} first splits it into {@code sf} such pieces, splits each of them again among the
 * devices and keeps its part of every one, in order; {@code Replicate} keeps everything. The indices a rank
 * keeps along a dimension are runs of the full tensor's; a shard is usually one block, and a
 * {@code _StridedShard} whose parts are not adjacent gives several blocks of the local shard, each placed on its
 * own. Pure arithmetic, bounded: at most {@link #MAX_RUNS} runs per dimension and {@link #MAX_BLOCKS} blocks.
 */
final class DTensorLayout {
    /** Most separate runs of indices a shard may keep along one dimension. */
    static final int MAX_RUNS = 4096;
    /** Most blocks a shard may be cut into. */
    static final int MAX_BLOCKS = 1 << 16;

    private DTensorLayout() {}

    /**
     * A block of a rank's local shard and where it lies in the full tensor.
     *
     * @param localOffsets its first index in the local shard
     * @param globalOffsets its first index in the full tensor
     * @param sizes its extent along each dimension
     */
    record Block(long[] localOffsets, long[] globalOffsets, long[] sizes) {
        Block {
            localOffsets = localOffsets.clone();
            globalOffsets = globalOffsets.clone();
            sizes = sizes.clone();
        }

        long elements() {
            long n = 1;
            for (long s : sizes) {
                n *= s;
            }
            return n;
        }
    }

    /** A run of consecutive indices of the full tensor along one dimension. */
    private record Run(long start, long length) {}

    /**
     * The blocks of the local shard of shape {@code localShape} that {@code spec} places, in the local shard's
     * row-major order of their first index.
     *
     * @param location the rank file, for messages
     * @throws MalformedTensorFileException when the local shard's shape is not the one the spec gives, or the
     *     spec splits a dimension into more pieces than are read
     */
    static List<Block> blocks(String location, String fqn, DTensorSpec spec, long[] localShape)
            throws MalformedTensorFileException {
        long[] shape = spec.shape();
        long[] meshShape = spec.meshShape();
        long[] coordinate = spec.coordinate();
        List<Placement> placements = spec.placements();
        List<List<Run>> runs = new ArrayList<>();
        for (long size : shape) {
            runs.add(List.of(new Run(0, size)));
        }
        for (int m = 0; m < placements.size(); m++) {
            Placement p = placements.get(m);
            if (p.kind() == Kind.REPLICATE) {
                continue;
            }
            List<Run> current = runs.get(p.dim());
            List<Run> local = p.kind() == Kind.SHARD
                    ? List.of(chunk(0, length(current), meshShape[m], coordinate[m]))
                    : strided(location, fqn, length(current), p.splitFactor(), meshShape[m], coordinate[m]);
            runs.set(p.dim(), compose(location, fqn, current, local));
        }
        long[] expected = new long[shape.length];
        for (int d = 0; d < shape.length; d++) {
            expected[d] = length(runs.get(d));
        }
        if (!Arrays.equals(expected, localShape)) {
            throw new MalformedTensorFileException(
                    location,
                    fqn,
                    "its local shard is " + Arrays.toString(localShape) + " where its spec (global shape "
                            + Arrays.toString(shape) + ", " + spec.layout() + ", coordinate "
                            + Arrays.toString(coordinate) + ") gives " + Arrays.toString(expected)
                            + ". The spec does not describe the shard; the file is corrupt or hostile.");
        }
        long count = 1;
        for (List<Run> r : runs) {
            count *= r.size(); // each at most MAX_RUNS, checked below before it can overflow
            if (count > MAX_BLOCKS) {
                throw tooMany(location, fqn, "blocks", MAX_BLOCKS);
            }
        }
        List<Block> out = new ArrayList<>();
        int rank = shape.length;
        int[] index = new int[rank];
        for (long b = 0; b < count; b++) {
            long[] localOffsets = new long[rank];
            long[] globalOffsets = new long[rank];
            long[] sizes = new long[rank];
            for (int d = 0; d < rank; d++) {
                List<Run> r = runs.get(d);
                long before = 0;
                for (int i = 0; i < index[d]; i++) {
                    before += r.get(i).length();
                }
                localOffsets[d] = before;
                globalOffsets[d] = r.get(index[d]).start();
                sizes[d] = r.get(index[d]).length();
            }
            out.add(new Block(localOffsets, globalOffsets, sizes));
            for (int d = rank - 1; d >= 0 && ++index[d] == runs.get(d).size(); d--) {
                index[d] = 0;
            }
        }
        return out;
    }

    /**
     * The piece {@code index} of {@code [start, start + length)} split into {@code pieces} as {@code torch.chunk}
     * splits it: ceil(length / pieces) each, the last ones smaller or empty.
     */
    private static Run chunk(long start, long length, long pieces, long index) {
        long size = length / pieces + (length % pieces == 0 ? 0 : 1);
        if (size == 0 || index >= (length - 1) / size + 1) {
            return new Run(start + length, 0); // an empty piece past the last full one
        }
        long from = size * index; // at most length: index < ceil(length / size)
        return new Run(start + from, Math.min(size, length - from));
    }

    /** The local indices {@code _StridedShard(d, splitFactor)} keeps of {@code length}, in order. */
    private static List<Run> strided(
            String location, String fqn, long length, long splitFactor, long devices, long coordinate)
            throws MalformedTensorFileException {
        List<Run> out = new ArrayList<>();
        long first = length / splitFactor + (length % splitFactor == 0 ? 0 : 1);
        long pieces = first == 0 ? 0 : Math.min(splitFactor, (length - 1) / first + 1); // the non-empty ones
        if (pieces > MAX_RUNS) {
            throw tooMany(location, fqn, "runs along a dimension", MAX_RUNS);
        }
        for (long j = 0; j < pieces; j++) {
            Run piece = chunk(0, length, splitFactor, j);
            Run mine = chunk(piece.start(), piece.length(), devices, coordinate);
            if (mine.length() > 0) {
                out.add(mine);
                if (out.size() > MAX_RUNS) {
                    throw tooMany(location, fqn, "runs along a dimension", MAX_RUNS);
                }
            }
        }
        return out;
    }

    /**
     * The full tensor's runs that local runs {@code local} (indices into the concatenation of {@code current})
     * stand for, adjacent runs merged.
     */
    private static List<Run> compose(String location, String fqn, List<Run> current, List<Run> local)
            throws MalformedTensorFileException {
        List<Run> out = new ArrayList<>();
        for (Run l : local) {
            long skip = l.start();
            long want = l.length();
            for (Run c : current) {
                if (want == 0) {
                    break;
                }
                if (skip >= c.length()) {
                    skip -= c.length();
                    continue;
                }
                long take = Math.min(c.length() - skip, want);
                add(out, new Run(c.start() + skip, take));
                if (out.size() > MAX_RUNS) {
                    throw tooMany(location, fqn, "runs along a dimension", MAX_RUNS);
                }
                want -= take;
                skip = 0;
            }
        }
        if (out.isEmpty()) {
            out.add(new Run(current.isEmpty() ? 0 : current.get(0).start(), 0));
        }
        return out;
    }

    private static void add(List<Run> runs, Run r) {
        if (!runs.isEmpty()) {
            Run last = runs.get(runs.size() - 1);
            if (last.length() == 0) {
                runs.set(runs.size() - 1, r);
                return;
            }
            if (last.start() + last.length() == r.start()) {
                runs.set(runs.size() - 1, new Run(last.start(), last.length() + r.length()));
                return;
            }
        }
        runs.add(r);
    }

    private static long length(List<Run> runs) {
        long n = 0;
        for (Run r : runs) {
            n += r.length();
        }
        return n;
    }

    private static MalformedTensorFileException tooMany(String location, String fqn, String what, int limit) {
        return new MalformedTensorFileException(
                location,
                fqn,
                "its DTensor spec cuts the local shard into more than " + limit + " " + what
                        + "; no real placement needs as many. The file is corrupt or hostile.");
    }
}
