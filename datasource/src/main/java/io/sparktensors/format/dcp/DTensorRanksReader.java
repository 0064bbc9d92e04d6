package io.sparktensors.format.dcp;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.FormatReader;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorData;
import io.sparktensors.format.TensorListing;
import io.sparktensors.format.pytorch.DTensorSpec;
import io.sparktensors.format.pytorch.DcpMetadata.Chunk;
import io.sparktensors.format.pytorch.PyTorchReader;
import io.sparktensors.format.pytorch.StorageViewDecoder;
import io.sparktensors.io.FolderFiles;
import io.sparktensors.io.InputFile;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Lists a set of per-rank {@code torch.save} files, one per rank of a distributed job, each holding that rank's
 * {@code model.state_dict()} of {@code DTensor}s (FSDP2, tensor parallel), as verl and SkyRL save them
 * ({@code model_world_size_{N}_rank_{r}.pt}), as the full tensors. It is given rank 0's file; the others are its
 * siblings, named here by rank.
 *
 * <p>Each rank file's pickle is read by the {@link PyTorchReader} (headers only: its {@code data.pkl} and zip
 * directory), which gives every DTensor's local shard (a byte range or strided view of the file) and its spec:
 * the global shape, the placements, the mesh's shape and the rank's coordinate in it. {@link DTensorLayout}
 * places each local shard in the full tensor by torch's rules; a shard that several ranks hold alike
 * ({@code Replicate}, or a tensor on a smaller mesh than the world) is taken once, from the lowest rank. The
 * shards must cover the tensor exactly once, as DCP chunks must ({@link DcpReader#checkCover}), and are
 * assembled the same way ({@link ChunkAssemblyDecoder}): rows are read straight from the rank files, memory
 * bounded by the chunk. A plain tensor in the rank files (a buffer FSDP2 does not shard) must be in every one
 * alike and is taken from rank 0.
 *
 * <p>Refused, naming the file and tensor: a missing rank file; a tensor one rank has and another lacks, or has
 * with a different shape, dtype or layout; a spec whose coordinate is not where the mesh's rank map puts the
 * rank, or saved by another rank than the file name says; a mesh of more devices than there are rank files; a
 * local shard of another shape than its spec gives; shards that overlap or leave elements out; files holding
 * no DTensor at all (then how they combine is unknown).
 */
public final class DTensorRanksReader implements FormatReader {
    /** The format name in the listing metadata. */
    public static final String NAME = "dtensor";
    /**
     * What marks a rank file by its name: {@code <prefix>world_size_<N>_rank_<r>.<pt|pth|bin>}, as verl, SkyRL
     * and FSDP2 examples name them.
     */
    public static final Pattern RANK_FILE =
            Pattern.compile("(.*world_size_)(\\d{1,7})(_rank_)(\\d{1,7})(\\.(?:pt|pth|bin))", Pattern.CASE_INSENSITIVE);

    private final List<String> rankFiles;
    private final boolean symbolic;

    /**
     * @param rankFiles the rank files' names, beside rank 0's file, index = rank
     * @param symbolic the pickle mode (the strict mode refuses DTensors, which are not on its allowlist)
     */
    public DTensorRanksReader(List<String> rankFiles, boolean symbolic) {
        if (rankFiles.isEmpty()) {
            throw new IllegalArgumentException("no rank files");
        }
        this.rankFiles = List.copyOf(rankFiles);
        this.symbolic = symbolic;
    }

    /** A rank file's name parts, or null when the name does not mark one. */
    public record RankName(String set, int worldSize, int rank) {
        /** The name of rank {@code r}'s file of the same set. */
        public String fileName(int r, String name) {
            Matcher m = RANK_FILE.matcher(name);
            if (!m.matches()) {
                throw new IllegalArgumentException(name);
            }
            return m.group(1) + m.group(2) + m.group(3) + r + m.group(5);
        }
    }

    /** The rank, world size and set (the name without its rank) a file name gives, or null. */
    public static RankName rankName(String fileName) {
        Matcher m = RANK_FILE.matcher(fileName);
        if (!m.matches()) {
            return null;
        }
        int world = Integer.parseInt(m.group(2));
        int rank = Integer.parseInt(m.group(4));
        if (world < 1 || rank >= world) {
            return null;
        }
        return new RankName(m.group(1) + m.group(2) + m.group(3) + "*" + m.group(5), world, rank);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public TensorListing list(InputFile file, FolderFiles folder, ReadLimits limits) throws IOException {
        String location = file.location();
        List<PyTorchReader.RankListing> ranks = new ArrayList<>();
        List<String> locations = new ArrayList<>();
        for (int r = 0; r < rankFiles.size(); r++) {
            InputFile f = r == 0 ? file : resolve(location, folder, rankFiles.get(r));
            ranks.add(new PyTorchReader(symbolic).listRank(f, limits));
            locations.add(f.location());
        }
        PyTorchReader.RankListing first = ranks.get(0);
        if (ranks.stream().allMatch(r -> r.dtensors().isEmpty())) {
            throw new MalformedTensorFileException(
                    location,
                    null,
                    "its " + ranks.size() + " rank files hold no DTensor, so how their tensors make full ones is"
                            + " unknown. Read each rank file on its own (name the file as the path).");
        }
        List<Map<String, StoredTensor>> byName = new ArrayList<>();
        for (int r = 0; r < ranks.size(); r++) {
            Map<String, StoredTensor> m = new LinkedHashMap<>();
            ranks.get(r).listing().tensors().forEach(t -> m.put(t.name(), t));
            byName.add(m);
            for (String name : m.keySet()) {
                if (!byName.get(0).containsKey(name)) {
                    throw new MalformedTensorFileException(
                            locations.get(r),
                            name,
                            "rank " + r + " holds this tensor but rank 0 ('" + location + "') does not. The rank"
                                    + " files are not of one save; copy them again.");
                }
            }
        }
        List<StoredTensor> tensors = new ArrayList<>();
        for (StoredTensor t : first.listing().tensors()) {
            tensors.add(full(t.name(), ranks, byName, locations));
        }
        Map<String, String> metadata = new LinkedHashMap<>(first.listing().metadata());
        metadata.put("format", NAME);
        metadata.put("world_size", Integer.toString(ranks.size()));
        metadata.remove(PyTorchReader.DTENSOR_NOTE);
        return new TensorListing(location, tensors, metadata, first.listing().skipped());
    }

    private static InputFile resolve(String location, FolderFiles folder, String name) throws IOException {
        try {
            return folder.resolve(location, name);
        } catch (FileNotFoundException e) {
            throw new MalformedTensorFileException(
                    location,
                    null,
                    "the rank file '" + MalformedTensorFileException.printable(name) + "' beside it is missing."
                            + " Copy every rank's file of the save.",
                    e);
        }
    }

    /** One tensor, whole: a plain tensor from rank 0, or a DTensor assembled from every rank's shard. */
    private static StoredTensor full(
            String fqn,
            List<PyTorchReader.RankListing> ranks,
            List<Map<String, StoredTensor>> byName,
            List<String> locations)
            throws MalformedTensorFileException {
        StoredTensor t0 = byName.get(0).get(fqn);
        DTensorSpec spec0 = ranks.get(0).dtensors().get(fqn);
        for (int r = 1; r < ranks.size(); r++) {
            StoredTensor t = byName.get(r).get(fqn);
            DTensorSpec spec = ranks.get(r).dtensors().get(fqn);
            String differs = t == null
                    ? "lacks it"
                    : (spec == null) != (spec0 == null)
                            ? "holds it as " + (spec == null ? "a plain tensor" : "a DTensor") + " where rank 0 holds "
                                    + (spec0 == null ? "a plain tensor" : "a DTensor")
                            : spec0 == null
                                    ? (t.dtype() != t0.dtype() || !Arrays.equals(t.shape(), t0.shape())
                                            ? "holds " + t.dtype() + Arrays.toString(t.shape()) + " where rank 0"
                                                    + " holds " + t0.dtype() + Arrays.toString(t0.shape())
                                            : null)
                                    : !spec.sameTensor(spec0)
                                            ? "holds a DTensor of " + spec.dtype() + Arrays.toString(spec.shape())
                                                    + " " + spec.layout() + " where rank 0 holds one of "
                                                    + spec0.dtype() + Arrays.toString(spec0.shape()) + " "
                                                    + spec0.layout()
                                            : null;
            if (differs != null) {
                throw new MalformedTensorFileException(
                        locations.get(r),
                        fqn,
                        "rank " + r + " " + differs + ". The rank files are not of one save; copy them again.");
            }
        }
        if (spec0 == null) {
            return t0; // replicated: every rank saved it alike
        }
        return assemble(fqn, spec0, ranks, byName, locations);
    }

    private static StoredTensor assemble(
            String fqn,
            DTensorSpec spec0,
            List<PyTorchReader.RankListing> ranks,
            List<Map<String, StoredTensor>> byName,
            List<String> locations)
            throws MalformedTensorFileException {
        String location = locations.get(0);
        long devices = spec0.meshSize();
        if (devices > ranks.size()) {
            throw new MalformedTensorFileException(
                    location,
                    fqn,
                    "its DTensor lies on a mesh of " + Arrays.toString(spec0.meshShape()) + " (" + devices
                            + " devices), more than the " + ranks.size() + " rank files. Copy every rank's file, or"
                            + " the spec is corrupt.");
        }
        Map<String, Integer> coordinates = new HashMap<>();
        Map<String, Integer> seen = new HashMap<>();
        List<Chunk> chunks = new ArrayList<>();
        List<ChunkAssemblyDecoder.Piece> pieces = new ArrayList<>();
        for (int r = 0; r < ranks.size(); r++) {
            DTensorSpec spec = ranks.get(r).dtensors().get(fqn);
            if (spec.rank() >= 0 && spec.rank() != r) {
                throw new MalformedTensorFileException(
                        locations.get(r),
                        fqn,
                        "its DTensor was saved by rank " + spec.rank() + " but the file is named rank " + r
                                + ". Rename the rank files as they were saved.");
            }
            String at = Arrays.toString(spec.coordinate());
            Integer other = coordinates.put(at, r);
            if (other != null && devices == ranks.size()) {
                throw new MalformedTensorFileException(
                        locations.get(r),
                        fqn,
                        "ranks " + other + " and " + r + " both stand at coordinate " + at + " of a mesh of "
                                + Arrays.toString(spec.meshShape()) + " that spans all " + ranks.size()
                                + " ranks. The rank files are corrupt or hostile.");
            }
            StoredTensor local = byName.get(r).get(fqn);
            for (DTensorLayout.Block b : DTensorLayout.blocks(locations.get(r), fqn, spec, local.shape())) {
                if (b.elements() == 0) {
                    continue;
                }
                String key = Arrays.toString(b.globalOffsets()) + Arrays.toString(b.sizes());
                if (seen.putIfAbsent(key, r) != null) {
                    continue; // the same shard again (replicated): taken from the lowest rank
                }
                chunks.add(new Chunk(b.globalOffsets(), b.sizes()));
                pieces.add(piece(fqn, local, b));
            }
        }
        long[] shape = spec0.shape();
        DcpReader.checkCover(
                location,
                fqn,
                shape,
                chunks,
                "The rank files' DTensor specs are corrupt or hostile.",
                "A rank file is missing, or the specs are corrupt.");
        pieces.sort((a, b) -> Arrays.compare(a.offsets(), b.offsets()));
        return DcpReader.assembled(location, fqn, spec0.dtype(), shape, pieces);
    }

    /** A block of a local shard as a chunk of the full tensor: the shard's bytes, or a view of part of them. */
    private static ChunkAssemblyDecoder.Piece piece(String fqn, StoredTensor local, DTensorLayout.Block b) {
        TensorData d = local.data();
        long[] localShape = local.shape();
        boolean whole = Arrays.equals(b.sizes(), localShape);
        if (whole && d.isPlain()) {
            return new ChunkAssemblyDecoder.Piece(
                    d.location(), d.fileLength(), d.offset(), b.globalOffsets(), b.sizes(), null);
        }
        StorageViewDecoder view;
        if (d.isPlain()) { // part of a contiguous shard: a view of its bytes
            int size = local.dtype().bits() / 8;
            long[] stride = new long[localShape.length];
            long step = 1;
            for (int i = localShape.length - 1; i >= 0; i--) {
                stride[i] = step;
                step *= localShape[i];
            }
            view = new StorageViewDecoder(
                    d.location(), fqn, d.offset(), d.length(), size, 0, start(b, stride, 0), b.sizes(), stride);
        } else {
            StorageViewDecoder v = (StorageViewDecoder) d.decoder();
            view = whole
                    ? v
                    : new StorageViewDecoder(
                            v.location(),
                            fqn,
                            v.storageOffset(),
                            v.storageBytes(),
                            v.elementSize(),
                            v.swapUnit(),
                            start(b, v.stride(), v.offset()),
                            b.sizes(),
                            v.stride());
        }
        return new ChunkAssemblyDecoder.Piece(
                d.location(), d.fileLength(), view.storageOffset(), b.globalOffsets(), b.sizes(), view);
    }

    /** The storage element where a block of a view starting at {@code offset} with {@code stride} begins. */
    private static long start(DTensorLayout.Block b, long[] stride, long offset) {
        long at = offset;
        long[] local = b.localOffsets();
        for (int i = 0; i < local.length; i++) {
            at += local[i] * stride[i];
        }
        return at;
    }
}
