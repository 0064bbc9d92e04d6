package io.sparktensors.format.keras;

import io.jhdf.HdfFile;
import io.jhdf.Superblock;
import io.jhdf.exceptions.HdfException;
import io.jhdf.exceptions.UnsupportedHdfException;
import io.jhdf.storage.HdfBackingStorage;
import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.io.SeekableInput;
import java.io.EOFException;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.Arrays;

/**
 * jHDF's storage over a byte range of an {@link SeekableInput}: the whole file, or an HDF5 file stored
 * inside another one (the {@code model.weights.h5} member of a {@code .keras} zip). Every read is checked
 * against the range and against a byte budget <em>before</em> its buffer is allocated, so a hostile file
 * can neither make jHDF allocate more than the budget nor loop forever through its own structure (every
 * loop reads, and reads spend the budget).
 *
 * <p>jHDF 0.13.0 takes a custom storage only through a private constructor of {@link HdfFile}; its public
 * constructors (file, channel) allocate whatever size the file declares before reading. The constructor is
 * reached by reflection once; {@code KerasReaderTest} fails if a jHDF upgrade removes it.
 *
 * <p>The {@link HdfFile} on top needs no closing: the caller closes the input. Thread-safe (jHDF decodes
 * chunks in parallel), driver- and executor-side, never serialized.
 */
final class HdfStorage implements HdfBackingStorage {
    /** The HDF5 signature may sit at 0, 512, 1024, 2048, ... (after a user block). */
    private static final byte[] SIGNATURE = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

    /** Whether {@code start} begins with the HDF5 signature (at offset 0, where h5py writes it). */
    static boolean hasSignature(byte[] start) {
        return start.length >= SIGNATURE.length
                && java.util.Arrays.equals(start, 0, SIGNATURE.length, SIGNATURE, 0, SIGNATURE.length);
    }

    private static final long FIRST_USER_BLOCK = 512;
    /** Enough for every superblock version with 8-byte offsets and lengths. */
    private static final int SUPERBLOCK_READ_BYTES = 256;

    private static final Constructor<HdfFile> HDF_FILE_FROM_STORAGE = storageConstructor();

    private final SeekableInput in;
    private final String location;
    private final long start;
    private final long length;
    private final Superblock superblock;
    private long budget;

    private HdfStorage(SeekableInput in, String location, long start, long length, Superblock superblock, long budget) {
        this.in = in;
        this.location = location;
        this.start = start;
        this.length = length;
        this.superblock = superblock;
        this.budget = budget;
    }

    /**
     * Opens the HDF5 file held in bytes {@code [start, start + length)} of {@code in}.
     *
     * @param budget most bytes jHDF may read through this storage, structure and data together
     * @throws MalformedTensorFileException when there is no HDF5 superblock
     * @throws StorageFault (unchecked) for faults found while jHDF reads the root group
     */
    static HdfFile open(SeekableInput in, String location, long start, long length, long budget) throws IOException {
        long base = findSignature(in, location, start, length);
        if (base < 0) {
            throw new MalformedTensorFileException(
                    location,
                    null,
                    "no HDF5 signature at offset 0 (nor after a user "
                            + "block). This is not an HDF5 file; Keras .h5 and .weights.h5 files are HDF5 files.");
        }
        int n = (int) Math.min(SUPERBLOCK_READ_BYTES, length - base);
        ByteBuffer head = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        readFully(in, location, start + base, head);
        head.flip();
        Superblock superblock = Superblock.readSuperblock(head);
        if (superblock.getBaseAddressByte() != base) {
            throw new MalformedTensorFileException(
                    location,
                    null,
                    "the HDF5 superblock says it starts at " + superblock.getBaseAddressByte() + " but was found at "
                            + base + ". The file is corrupt.");
        }
        HdfStorage storage = new HdfStorage(in, location, start, length, superblock, budget);
        try {
            return HDF_FILE_FROM_STORAGE.newInstance(storage);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("jHDF failed to open " + location, e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("jHDF's HdfFile(HdfBackingStorage) constructor cannot be called", e);
        }
    }

    private static long findSignature(SeekableInput in, String location, long start, long length) throws IOException {
        byte[] found = new byte[SIGNATURE.length];
        for (long at = 0; at + SIGNATURE.length <= length; at = at == 0 ? FIRST_USER_BLOCK : at * 2) {
            in.readFully(start + at, found, 0, found.length);
            if (Arrays.equals(found, SIGNATURE)) {
                return at;
            }
        }
        return -1;
    }

    private static Constructor<HdfFile> storageConstructor() {
        try {
            Constructor<HdfFile> c = HdfFile.class.getDeclaredConstructor(HdfBackingStorage.class);
            c.setAccessible(true);
            return c;
        } catch (NoSuchMethodException e) {
            throw new ExceptionInInitializerError(
                    "this jHDF version has no HdfFile(HdfBackingStorage) constructor; spark-tensors needs jHDF 0.13.0");
        }
    }

    @Override
    public ByteBuffer readBufferFromAddress(long address, int len) {
        return map(address, len);
    }

    @Override
    public ByteBuffer map(long address, long len) {
        return mapNoOffset(address + superblock.getBaseAddressByte(), len);
    }

    @Override
    public synchronized ByteBuffer mapNoOffset(long address, long len) {
        if (address < 0 || len < 0 || len > length || address > length - len) {
            throw new StorageFault(new MalformedTensorFileException(
                    location,
                    null,
                    "the HDF5 structure points at "
                            + len + " bytes at offset " + address + ", beyond the end of the file (" + length
                            + " bytes). The file is truncated or corrupt."));
        }
        if (len > budget) {
            throw new StorageFault(new MalformedTensorFileException(
                    location,
                    null,
                    "reading the HDF5 structure "
                            + "needs more bytes than the limit maxHeaderBytes allows. The file is corrupt (its structure loops) "
                            + "or very large; if it is trusted, raise the read option maxHeaderBytes."));
        }
        budget -= len;
        ByteBuffer buf = ByteBuffer.allocate((int) len);
        try {
            readFully(in, location, start + address, buf);
        } catch (IOException e) {
            throw new StorageFault(e);
        }
        buf.flip();
        return buf.order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void readFully(SeekableInput in, String location, long position, ByteBuffer dst) throws IOException {
        try {
            in.readFully(position, dst);
        } catch (EOFException e) {
            throw new MalformedTensorFileException(
                    location,
                    null,
                    "the file ends before the HDF5 structure does. " + "It was truncated or is still being written.",
                    e);
        }
    }

    @Override
    public long getUserBlockSize() {
        return superblock.getBaseAddressByte();
    }

    @Override
    public Superblock getSuperblock() {
        return superblock;
    }

    @Override
    public FileChannel getFileChannel() {
        throw new UnsupportedOperationException("no file channel: " + location + " is read through positioned reads");
    }

    @Override
    public int getSizeOfOffsets() {
        return superblock.getSizeOfOffsets();
    }

    @Override
    public int getSizeOfLengths() {
        return superblock.getSizeOfLengths();
    }

    @Override
    public void close() {
        // The caller owns the input.
    }

    @Override
    public long size() {
        return length;
    }

    /** True: there is no backing file, and jHDF must not ask for one (its {@code close()} would). */
    @Override
    public boolean inMemory() {
        return true;
    }

    /**
     * Carries an I/O fault (a {@link MalformedTensorFileException} or a real read error) through jHDF, which
     * wraps whatever its storage throws in its own exceptions; {@link #unwrap} finds it again.
     */
    static final class StorageFault extends HdfException {
        private static final long serialVersionUID = 1L;

        StorageFault(IOException cause) {
            super(cause.getMessage(), cause);
        }

        IOException fault() {
            return (IOException) getCause();
        }
    }

    /**
     * The exception a failure inside jHDF stands for: the storage's own fault when one caused it, otherwise a
     * {@link MalformedTensorFileException} naming the file, the dataset path when known, and jHDF's reason.
     */
    static IOException unwrap(Throwable failure, String location, String path) {
        Throwable root = failure;
        boolean unsupported = false;
        for (Throwable c = failure; c != null; c = c.getCause()) {
            if (c instanceof StorageFault f) {
                return withPath(f.fault(), path);
            }
            unsupported |= c instanceof UnsupportedHdfException;
            root = c;
        }
        String reason = root instanceof StackOverflowError
                ? "its structure nests or loops too deeply"
                : root.getClass().getSimpleName() + ": "
                        + MalformedTensorFileException.printable(String.valueOf(root.getMessage()));
        String fault = unsupported
                ? "it uses an HDF5 feature that cannot be read (" + reason
                        + "). Re-save the weights with Keras or h5py " + "defaults."
                : "its HDF5 structure is invalid (" + reason + "). The file is corrupt or truncated.";
        return new MalformedTensorFileException(location, path, fault, failure);
    }

    private static IOException withPath(IOException fault, String path) {
        if (path != null
                && fault instanceof MalformedTensorFileException m
                && m.tensor().isEmpty()) {
            return new MalformedTensorFileException(m.file(), path, m.fault(), m);
        }
        return fault;
    }
}
