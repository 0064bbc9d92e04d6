package io.sparktensors.it;

import io.sparktensors.format.pytorch.TorchBytes.Pickle;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32;

/**
 * Writes a DCP checkpoint of F32 matrices as torch's FileSystemWriter lays it out, at any size: a
 * {@code .metadata} pickle (the dataclasses torch pickles, by name) and one {@code __R_0.distcp} file per rank,
 * each chunk a {@code torch.save} zip archive ({@code data.pkl}, {@code byteorder}, {@code data/0}) at an
 * offset of its rank file. Each matrix is split between two ranks along dimension 0 (FSDP's {@code Shard(0)})
 * or 1 ({@code Shard(1)}). Chunk data are holes of sparse files with islands of random bytes at each chunk's
 * start, middle and end, so writing costs no time and a byte out of place shows. Knows each full tensor's
 * SHA-256, computed from the rank files' chunk bytes as torch would assemble them.
 */
final class SparseDcpCheckpoint {
    private static final int ISLAND = 4096;
    private static final int RANKS = 2;

    /** A matrix of F32 {@code [rows, cols]} split between the ranks along {@code dim}. */
    record Matrix(String name, long rows, long cols, int dim) {
        long chunkRows() {
            return dim == 0 ? rows / RANKS : rows;
        }

        long chunkCols() {
            return dim == 1 ? cols / RANKS : cols;
        }

        long chunkBytes() {
            return chunkRows() * chunkCols() * 4;
        }
    }

    /** Where chunk {@code rank} of a matrix lies in its rank file: its {@code data/0} record's bytes. */
    private record Placed(Path file, long archiveOffset, long archiveLength, long dataOffset) {}

    private final Path dir;
    private final List<Matrix> matrices;
    private final Map<String, Placed[]> placed = new LinkedHashMap<>();

    private SparseDcpCheckpoint(Path dir, List<Matrix> matrices) {
        this.dir = dir;
        this.matrices = List.copyOf(matrices);
    }

    /** Writes the checkpoint into {@code dir}. */
    static SparseDcpCheckpoint write(Path dir, List<Matrix> matrices, Random random) throws Exception {
        Files.createDirectories(dir);
        SparseDcpCheckpoint c = new SparseDcpCheckpoint(dir, matrices);
        for (int rank = 0; rank < RANKS; rank++) {
            Path file = dir.resolve("__" + rank + "_0.distcp");
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                long at = 0;
                for (Matrix m : matrices) {
                    Placed p = writeArchive(raf, file, at, m, random);
                    c.placed.computeIfAbsent(m.name(), k -> new Placed[RANKS])[rank] = p;
                    at += p.archiveLength();
                }
                raf.setLength(at);
            }
        }
        Files.write(dir.resolve(".metadata"), c.metadata());
        return c;
    }

    /** Each tensor's SHA-256 over its full row-major bytes, read from the chunks in the rank files. */
    Map<String, String> expectedHashes() throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        for (Matrix m : matrices) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            Placed[] chunks = placed.get(m.name());
            if (m.dim() == 0) { // the chunks one after the other
                for (Placed p : chunks) {
                    digest(md, p.file(), p.dataOffset(), m.chunkBytes());
                }
            } else { // row by row: a row of each chunk in turn
                long rowBytes = m.chunkCols() * 4;
                try (RandomAccessFile a = new RandomAccessFile(chunks[0].file().toFile(), "r");
                        RandomAccessFile b =
                                new RandomAccessFile(chunks[1].file().toFile(), "r")) {
                    byte[] row = new byte[(int) rowBytes];
                    for (long r = 0; r < m.rows(); r++) {
                        a.seek(chunks[0].dataOffset() + r * rowBytes);
                        a.readFully(row);
                        md.update(row);
                        b.seek(chunks[1].dataOffset() + r * rowBytes);
                        b.readFully(row);
                        md.update(row);
                    }
                }
            }
            out.put(m.name(), HexFormat.of().formatHex(md.digest()));
        }
        return out;
    }

    private static void digest(MessageDigest md, Path file, long offset, long length) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            f.seek(offset);
            byte[] buffer = new byte[1 << 20];
            for (long left = length; left > 0; ) {
                int n = (int) Math.min(buffer.length, left);
                f.readFully(buffer, 0, n);
                md.update(buffer, 0, n);
                left -= n;
            }
        }
    }

    /** One chunk's torch.save archive at {@code at}: local headers, the data as holes and islands, directory. */
    private static Placed writeArchive(RandomAccessFile raf, Path file, long at, Matrix m, Random random)
            throws Exception {
        long rows = m.chunkRows();
        long cols = m.chunkCols();
        byte[] pickle = new Pickle()
                .proto()
                .tensor("FloatStorage", "0", rows * cols, 0, new long[] {rows, cols}, new long[] {cols, 1}, false)
                .op('.')
                .bytes();
        List<String> names = List.of("archive/data.pkl", "archive/byteorder", "archive/data/0");
        byte[] byteorder = "little".getBytes(StandardCharsets.US_ASCII);
        long dataBytes = m.chunkBytes();
        long[] offsets = new long[3];
        long[] crcs = new long[3];
        long[] sizes = {pickle.length, byteorder.length, dataBytes};
        long pos = at;
        for (int i = 0; i < 3; i++) {
            offsets[i] = pos - at;
            byte[] name = names.get(i).getBytes(StandardCharsets.UTF_8);
            long dataAt = pos + 30 + name.length;
            if (i < 2) {
                byte[] contents = i == 0 ? pickle : byteorder;
                raf.seek(dataAt);
                raf.write(contents);
                crcs[i] = crc(contents);
            } else {
                for (long island : new long[] {0, dataBytes / 2, dataBytes - ISLAND}) {
                    byte[] b = new byte[(int) Math.min(ISLAND, dataBytes - island)];
                    random.nextBytes(b);
                    raf.seek(dataAt + island);
                    raf.write(b);
                }
                raf.setLength(Math.max(raf.length(), dataAt + dataBytes));
                crcs[i] = crcOf(raf, dataAt, dataBytes);
            }
            raf.seek(pos);
            raf.write(localHeader(name, crcs[i], sizes[i]));
            pos = dataAt + sizes[i];
        }
        long directoryAt = pos;
        ByteBuffer central = le(3 * 46 + names.stream().mapToInt(String::length).sum() + 22);
        for (int i = 0; i < 3; i++) {
            byte[] name = names.get(i).getBytes(StandardCharsets.UTF_8);
            central.putInt(0x02014b50)
                    .putShort((short) 20)
                    .putShort((short) 20)
                    .putShort((short) 0)
                    .putShort((short) 0)
                    .putInt(0)
                    .putInt((int) crcs[i])
                    .putInt((int) sizes[i])
                    .putInt((int) sizes[i])
                    .putShort((short) name.length)
                    .putShort((short) 0)
                    .putShort((short) 0)
                    .putShort((short) 0)
                    .putShort((short) 0)
                    .putInt(0)
                    .putInt((int) offsets[i])
                    .put(name);
        }
        int directoryBytes = central.position();
        central.putInt(0x06054b50)
                .putShort((short) 0)
                .putShort((short) 0)
                .putShort((short) 3)
                .putShort((short) 3)
                .putInt(directoryBytes)
                .putInt((int) (directoryAt - at))
                .putShort((short) 0);
        raf.seek(directoryAt);
        raf.write(central.array(), 0, central.position());
        long end = directoryAt + central.position();
        long dataOffset = offsets[2] + 30 + names.get(2).length();
        return new Placed(file, at, end - at, at + dataOffset);
    }

    private static byte[] localHeader(byte[] name, long crc, long size) {
        return le(30 + name.length)
                .putInt(0x04034b50)
                .putShort((short) 20)
                .putShort((short) 0)
                .putShort((short) 0)
                .putInt(0)
                .putInt((int) crc)
                .putInt((int) size)
                .putInt((int) size)
                .putShort((short) name.length)
                .putShort((short) 0)
                .put(name)
                .array();
    }

    private static long crc(byte[] b) {
        CRC32 c = new CRC32();
        c.update(b);
        return c.getValue();
    }

    private static long crcOf(RandomAccessFile raf, long offset, long length) throws Exception {
        CRC32 c = new CRC32();
        byte[] buffer = new byte[1 << 20];
        raf.seek(offset);
        for (long left = length; left > 0; ) {
            int n = (int) Math.min(buffer.length, left);
            raf.readFully(buffer, 0, n);
            c.update(buffer, 0, n);
            left -= n;
        }
        return c.getValue();
    }

    /** The {@code .metadata} pickle: Metadata(state_dict_metadata, storage_data), dataclasses by name. */
    private byte[] metadata() {
        String pkg = "torch.distributed.checkpoint.metadata";
        Pickle p = new Pickle().proto();
        object(p, pkg, "Metadata").op('}', '(').str("state_dict_metadata").op('}', '(');
        for (Matrix m : matrices) {
            p.str(m.name());
            object(p, pkg, "TensorStorageMetadata").op('}', '(').str("properties");
            object(p, pkg, "TensorProperties").op('}', '(').str("dtype").global("torch", "float32");
            p.op('u', 'b').str("size").tuple(m.rows(), m.cols()).str("chunks").op(']', '(');
            for (int rank = 0; rank < RANKS; rank++) {
                object(p, pkg, "ChunkStorageMetadata").op('}', '(').str("offsets");
                p.tuple(chunkOffsets(m, rank)).str("sizes").tuple(m.chunkRows(), m.chunkCols());
                p.op('u', 'b');
            }
            p.op('e', 'u', 'b');
        }
        p.op('u').str("storage_data").op('}', '(');
        for (Matrix m : matrices) {
            for (int rank = 0; rank < RANKS; rank++) {
                Placed placedChunk = placed.get(m.name())[rank];
                object(p, pkg, "MetadataIndex")
                        .op('}', '(')
                        .str("fqn")
                        .str(m.name())
                        .str("offset");
                p.tuple(chunkOffsets(m, rank)).str("index").integer(rank).op('u', 'b');
                object(p, "torch.distributed.checkpoint.filesystem", "_StorageInfo")
                        .op('}', '(');
                p.str("relative_path").str("__" + rank + "_0.distcp");
                p.str("offset").integer(placedChunk.archiveOffset()).str("length");
                p.integer(placedChunk.archiveLength()).op('u', 'b');
            }
        }
        return p.op('u', 'u', 'b', '.').bytes();
    }

    private static long[] chunkOffsets(Matrix m, int rank) {
        return m.dim() == 0 ? new long[] {rank * m.chunkRows(), 0} : new long[] {0, rank * m.chunkCols()};
    }

    /** {@code module.name()} made by NEWOBJ with no arguments; its state dict and BUILD follow. */
    private static Pickle object(Pickle p, String module, String name) {
        return p.global(module, name).op(')', 0x81);
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The names written, for messages. */
    List<String> names() {
        List<String> out = new ArrayList<>();
        matrices.forEach(m -> out.add(m.name()));
        return out;
    }
}
