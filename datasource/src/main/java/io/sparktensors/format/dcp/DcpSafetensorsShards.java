package io.sparktensors.format.dcp;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorData;
import io.sparktensors.format.TensorListing;
import io.sparktensors.format.pytorch.DcpMetadata.Chunk;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What DCP's {@code HuggingFaceStorageWriter} saves without consolidation ({@code save_distributed=True}):
 * safetensors files of pieces, {@code shard-<rank>-model-<i>-of-<n>.safetensors}, each file's
 * {@code __metadata__} recording under {@value #SHARDING_INFO} where each of its tensors lies in the full
 * tensor ({@code {"name": {"saved_offsets": [row, col, ...]}}}). The full shapes are recorded nowhere: a
 * tensor's shape is the box its pieces span, and the pieces must cover that box exactly once (the check
 * {@link DcpReader} makes of {@code .metadata} chunks), so a missing or doubled piece is an error, not a
 * smaller or corrupt tensor. Pieces are assembled as DCP chunks are: row runs copied as they are, other
 * splits gathered row by row.
 */
public final class DcpSafetensorsShards {
    /** The {@code __metadata__} key holding the pieces' offsets. */
    public static final String SHARDING_INFO = "DCP_SHARDING_INFO";

    private static final JsonFactory JSON = JsonFactory.builder().build();

    private DcpSafetensorsShards() {}

    /** Whether a listed safetensors file is a piece file of DCP's Hugging Face storage. */
    public static boolean isPieceFile(TensorListing listing) {
        return listing.metadata().containsKey(SHARDING_INFO);
    }

    /**
     * The full tensors the piece files hold together.
     *
     * @param pieceFiles the listings of every piece file of the checkpoint
     * @throws MalformedTensorFileException naming the file, the tensor and the fault, when the offsets are
     *     malformed or the pieces do not cover their tensors exactly once
     */
    public static TensorListing consolidate(List<TensorListing> pieceFiles) throws IOException {
        checkNames(pieceFiles);
        Map<String, List<StoredTensor>> pieces = new LinkedHashMap<>();
        Map<String, List<long[]>> offsets = new HashMap<>();
        Map<String, String> firstFile = new HashMap<>();
        List<String> skipped = new ArrayList<>();
        for (TensorListing file : pieceFiles) {
            Map<String, long[]> info = parse(file.location(), file.metadata().get(SHARDING_INFO));
            for (StoredTensor t : file.tensors()) {
                long[] at = info.remove(t.name());
                if (at == null) {
                    throw fault(
                            file.location(),
                            t.name(),
                            "its " + SHARDING_INFO + " does not say where this piece lies in the full tensor");
                }
                if (at.length != t.rank()) {
                    throw fault(
                            file.location(),
                            t.name(),
                            "its saved_offsets " + Arrays.toString(at) + " have not the piece's " + t.rank()
                                    + " dimensions");
                }
                List<StoredTensor> same = pieces.computeIfAbsent(t.name(), k -> new ArrayList<>());
                if (!same.isEmpty() && same.get(0).dtype() != t.dtype()) {
                    throw fault(
                            file.location(),
                            t.name(),
                            "this piece is " + t.dtype() + " where another, in '" + firstFile.get(t.name()) + "', is "
                                    + same.get(0).dtype());
                }
                same.add(t);
                offsets.computeIfAbsent(t.name(), k -> new ArrayList<>()).add(at);
                firstFile.putIfAbsent(t.name(), file.location());
            }
            if (!info.isEmpty()) {
                String name = info.keySet().iterator().next();
                throw fault(file.location(), name, "its " + SHARDING_INFO + " names a tensor the file does not hold");
            }
            skipped.addAll(file.skipped());
        }
        List<StoredTensor> tensors = new ArrayList<>();
        for (Map.Entry<String, List<StoredTensor>> e : pieces.entrySet()) {
            StoredTensor t = assemble(firstFile.get(e.getKey()), e.getKey(), e.getValue(), offsets.get(e.getKey()));
            if (t == null) {
                skipped.add(e.getKey() + ": " + e.getValue().get(0).dtype()
                        + " packs several elements per byte, which pieces cannot split");
            } else {
                tensors.add(t);
            }
        }
        Map<String, String> metadata = new LinkedHashMap<>(pieceFiles.get(0).metadata());
        metadata.remove(SHARDING_INFO);
        return new TensorListing(pieceFiles.get(0).location(), tensors, metadata, skipped);
    }

    private static StoredTensor assemble(String location, String name, List<StoredTensor> parts, List<long[]> at)
            throws MalformedTensorFileException {
        StoredTensor first = parts.get(0);
        int rank = first.rank();
        long[] shape = new long[rank];
        List<Chunk> chunks = new ArrayList<>(parts.size());
        Map<String, ChunkAssemblyDecoder.Piece> byOffsets = new HashMap<>();
        for (int i = 0; i < parts.size(); i++) {
            StoredTensor p = parts.get(i);
            if (p.rank() != rank) {
                throw fault(location, name, "its pieces have " + rank + " and " + p.rank() + " dimensions");
            }
            for (int d = 0; d < rank; d++) {
                try {
                    shape[d] = Math.max(shape[d], Math.addExact(at.get(i)[d], p.dim(d)));
                } catch (ArithmeticException overflow) {
                    throw fault(location, name, "a piece's saved_offsets " + Arrays.toString(at.get(i)) + " overflow");
                }
            }
            chunks.add(new Chunk(at.get(i), p.shape()));
            TensorData data = p.data();
            if (byOffsets.put(
                            Arrays.toString(at.get(i)),
                            new ChunkAssemblyDecoder.Piece(
                                    data.location(), data.fileLength(), data.offset(), at.get(i), p.shape(), null))
                    != null) {
                throw fault(
                        location,
                        name,
                        "two pieces are saved at " + Arrays.toString(at.get(i)) + ": some elements are stored twice."
                                + " The checkpoint is corrupt or mixes two saves.");
            }
        }
        DcpReader.checkCover(location, name, shape, chunks);
        if (first.dtype().bits() % 8 != 0) {
            return null;
        }
        if (parts.size() == 1) { // stored whole
            return new StoredTensor(name, first.dtype(), shape, first.data());
        }
        chunks.sort(DcpReader.ROW_MAJOR);
        List<ChunkAssemblyDecoder.Piece> ordered = new ArrayList<>(chunks.size());
        for (Chunk c : chunks) {
            ordered.add(byOffsets.get(Arrays.toString(c.offsets())));
        }
        ChunkAssemblyDecoder.Piece head = ordered.get(0);
        long bytes = first.dtype().byteSize(DcpReader.elements(shape));
        ChunkAssemblyDecoder decoder =
                new ChunkAssemblyDecoder(name, first.dtype().bits() / 8, shape, head.location(), ordered);
        return new StoredTensor(
                name,
                first.dtype(),
                shape,
                new TensorData(head.location(), head.fileLength(), head.dataOffset(), bytes, decoder));
    }

    private static final Pattern PIECE_FILE =
            Pattern.compile("shard-(\\d{1,9})-model-(\\d{1,9})-of-(\\d{1,9})\\.safetensors");

    /**
     * When the files bear the writer's names ({@code shard-<rank>-model-<i>-of-<n>}), every rank up to the
     * highest must have a file and every output file {@code 1..n} a piece of some rank: a rank or an output
     * file missing entirely is named. (A missing file whose pieces all lie at the ends of their tensors is
     * not told from smaller tensors by any metadata; torch's own reader makes the same inference.)
     */
    private static void checkNames(List<TensorListing> pieceFiles) throws MalformedTensorFileException {
        TreeSet<Integer> ranks = new TreeSet<>();
        TreeSet<Integer> outputs = new TreeSet<>();
        int count = -1;
        String sample = null;
        for (TensorListing f : pieceFiles) {
            String location = f.location();
            Matcher m = PIECE_FILE.matcher(location.substring(location.lastIndexOf('/') + 1));
            if (!m.matches() || (count >= 0 && count != Integer.parseInt(m.group(3)))) {
                return; // renamed files: nothing to infer from their names
            }
            ranks.add(Integer.parseInt(m.group(1)));
            outputs.add(Integer.parseInt(m.group(2)));
            count = Integer.parseInt(m.group(3));
            sample = location;
        }
        for (int r = 1; r <= ranks.last(); r++) {
            if (!ranks.contains(r)) {
                throw new MalformedTensorFileException(
                        sample,
                        null,
                        "the folder has files of rank " + ranks.last() + " but no file of rank " + r + " (shard-"
                                + String.format("%05d", r)
                                + "-model-*). Copy the checkpoint again, every rank's files.");
            }
        }
        for (int i = 1; i <= count; i++) {
            if (!outputs.contains(i)) {
                throw new MalformedTensorFileException(
                        sample,
                        null,
                        "no rank has a file model-" + String.format("%05d-of-%05d", i, count)
                                + ". Copy the checkpoint again, every file.");
            }
        }
    }

    /** {@code {"name": {"saved_offsets": [n, ...]}, ...}}; anything else is a fault naming the file. */
    private static Map<String, long[]> parse(String location, String json) throws IOException {
        expect(location, json != null, "is missing: the file is not a piece file of the same checkpoint");
        Map<String, long[]> out = new HashMap<>();
        try (JsonParser p = JSON.createParser(json)) {
            expect(location, p.nextToken() == JsonToken.START_OBJECT, "is not a JSON object");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                expect(location, p.nextToken() == JsonToken.START_OBJECT, "has an entry that is not an object");
                long[] offsets = null;
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String field = p.currentName();
                    JsonToken value = p.nextToken();
                    if (field.equals("saved_offsets")) {
                        expect(location, value == JsonToken.START_ARRAY, "has saved_offsets that are not an array");
                        List<Long> list = new ArrayList<>();
                        while (p.nextToken() == JsonToken.VALUE_NUMBER_INT) {
                            long v = p.getLongValue();
                            expect(location, v >= 0 && list.size() < 64, "has saved_offsets out of range");
                            list.add(v);
                        }
                        expect(location, p.currentToken() == JsonToken.END_ARRAY, "has a saved offset not an integer");
                        offsets = list.stream().mapToLong(Long::longValue).toArray();
                    } else {
                        p.skipChildren();
                    }
                }
                expect(location, offsets != null, "has an entry without saved_offsets");
                expect(location, out.put(name, offsets) == null, "names a tensor twice");
            }
            expect(location, p.currentToken() == JsonToken.END_OBJECT, "is malformed");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new MalformedTensorFileException(
                    location, null, "its " + SHARDING_INFO + " is not valid JSON: " + e.getOriginalMessage());
        }
        return out;
    }

    private static void expect(String location, boolean ok, String fault) throws MalformedTensorFileException {
        if (!ok) {
            throw new MalformedTensorFileException(location, null, "its " + SHARDING_INFO + " " + fault);
        }
    }

    private static MalformedTensorFileException fault(String location, String tensor, String why) {
        return new MalformedTensorFileException(location, tensor, why);
    }
}
