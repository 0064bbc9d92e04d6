package io.sparktensors.fuzz;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.FormatReader;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorData;
import io.sparktensors.format.TensorListing;
import io.sparktensors.io.FolderFiles;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import io.sparktensors.testing.BytesInputFile;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The contract every parser of untrusted bytes keeps, as the fuzz tests check it: it returns a valid result
 * or throws {@link MalformedTensorFileException}; nothing else escapes, nothing hangs, and nothing allocates
 * more than the input justifies (the fuzz JVMs run with a small heap, so an oversized allocation fails as an
 * OutOfMemoryError, which is a finding). A listed tensor is also decoded, within a small budget, so decoders
 * meet the same contract.
 */
final class FuzzContract {
    /** Fuzz inputs are small; limits well below the defaults keep the search in interesting sizes. */
    static final ReadLimits LIMITS = new ReadLimits(1 << 20, 10_000, 64);
    /** Decoded bytes per input at most; larger tensors are listed but not decoded. */
    private static final long DECODE_BUDGET = 1 << 20;

    private FuzzContract() {}

    static void check(FormatReader reader, byte[] input) {
        check(reader, input, "fuzz-input");
    }

    /**
     * Lists {@code input} as a file named {@code fileName}; every file it refers to (TF data shards, ONNX
     * external data) is the input itself, so the fuzzer reaches the code that reads them.
     */
    static void check(FormatReader reader, byte[] input, String fileName) {
        BytesInputFile file = new BytesInputFile(fileName, input);
        FolderFiles itself = (referrer, name) -> {
            FolderFiles.checkRelative(referrer, name);
            return file;
        };
        TensorListing listing;
        try {
            listing = reader.list(file, itself, LIMITS);
        } catch (MalformedTensorFileException | FileNotFoundException expected) {
            return;
        } catch (IOException e) {
            throw new AssertionError("an IOException other than MalformedTensorFileException: " + e, e);
        }
        decodeAll(file, listing);
    }

    /**
     * Lists {@code input} as a file named {@code fileName} beside the fixed files {@code folder} holds by name
     * (a DCP checkpoint's rank files), then decodes what it lists from any of them, opening the others through
     * {@link io.sparktensors.format.TensorDecoder.Files}.
     */
    static void check(FormatReader reader, byte[] input, String fileName, java.util.Map<String, byte[]> folder) {
        BytesInputFile file = new BytesInputFile(fileName, input);
        java.util.Map<String, BytesInputFile> byLocation = new java.util.HashMap<>();
        folder.forEach((name, bytes) -> byLocation.put(name, new BytesInputFile(name, bytes)));
        byLocation.put(fileName, file);
        FolderFiles files = (referrer, name) -> {
            FolderFiles.checkRelative(referrer, name);
            BytesInputFile f = byLocation.get(name);
            if (f == null) {
                throw new FileNotFoundException(name);
            }
            return f;
        };
        TensorListing listing;
        try {
            listing = reader.list(file, files, LIMITS);
        } catch (MalformedTensorFileException | FileNotFoundException expected) {
            return;
        } catch (IOException e) {
            throw new AssertionError("an IOException other than MalformedTensorFileException: " + e, e);
        }
        long budget = DECODE_BUDGET;
        for (StoredTensor t : listing.tensors()) {
            TensorData d = t.data();
            BytesInputFile holder = byLocation.get(d.location());
            if (d.length() > budget || holder == null) {
                continue;
            }
            budget -= d.length();
            ByteBuffer out = ByteBuffer.allocate((int) d.length());
            try (SeekableInput in = holder.open(ReadPolicy.RANDOM)) {
                t.readRows(
                        in, (location, length) -> byLocation.get(location).open(ReadPolicy.RANDOM), 0, t.rows(), out);
            } catch (MalformedTensorFileException expected) {
                continue;
            } catch (IOException e) {
                throw new AssertionError("listed data could not be read: " + e, e);
            }
            if (out.hasRemaining()) {
                throw new AssertionError("decoding " + t.name() + " left " + out.remaining() + " bytes unwritten");
            }
        }
    }

    private static void decodeAll(BytesInputFile file, TensorListing listing) {
        long budget = DECODE_BUDGET;
        try (SeekableInput in = file.open(ReadPolicy.RANDOM)) {
            for (StoredTensor t : listing.tensors()) {
                TensorData d = t.data();
                if (d.length() > budget || !d.location().equals(file.location())) {
                    continue;
                }
                budget -= d.length();
                ByteBuffer out = ByteBuffer.allocate((int) d.length());
                try {
                    t.readRows(in, 0, t.rows(), out);
                } catch (MalformedTensorFileException expected) {
                    continue;
                }
                if (out.hasRemaining()) {
                    throw new AssertionError("decoding " + t.name() + " left " + out.remaining() + " bytes unwritten");
                }
            }
        } catch (IOException e) {
            throw new AssertionError("listed data could not be read: " + e, e);
        }
    }
}
