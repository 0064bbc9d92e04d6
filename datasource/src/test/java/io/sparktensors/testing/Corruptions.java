package io.sparktensors.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.FormatReader;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorListing;
import io.sparktensors.io.FolderFiles;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/** Damaged copies of a valid in-memory file, and the one outcome a reader may give for them. */
public final class Corruptions {
    private Corruptions() {}

    /** Reads every listed tensor of an in-memory file, through its decoder when it has one, wholly. */
    public static void readAll(BytesInputFile file, TensorListing listing) throws IOException {
        try (SeekableInput in = file.open(ReadPolicy.RANDOM)) {
            for (StoredTensor t : listing.tensors()) {
                ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(t.data().length()));
                t.readRows(in, 0, t.rows(), out);
                assertEquals(0, out.remaining(), t.name());
            }
        }
    }

    /**
     * Every byte of {@code whole} set in turn to 0, 0xff, 0x80, 0x7f and itself with its low bit flipped: the
     * file lists and every tensor reads, or the reader says it is malformed; nothing else.
     */
    public static void assertEveryByteChangeListsOrIsMalformed(
            FormatReader reader, String name, byte[] whole, FolderFiles folder) throws IOException {
        for (int i = 0; i < whole.length; i++) {
            for (int v : new int[] {0, 0xff, 0x80, 0x7f, whole[i] ^ 1}) {
                byte[] bad = whole.clone();
                bad[i] = (byte) v;
                BytesInputFile file = new BytesInputFile(name, bad);
                try {
                    readAll(file, reader.list(file, folder, ReadLimits.DEFAULTS));
                } catch (MalformedTensorFileException expected) {
                    // the only exception a corrupt file may cause
                }
            }
        }
    }

    /** Every proper prefix of {@code whole} (a truncated copy) is malformed. */
    public static void assertEveryPrefixIsMalformed(
            FormatReader reader, String name, byte[] whole, FolderFiles folder) {
        for (int n = 0; n < whole.length; n++) {
            byte[] prefix = Arrays.copyOf(whole, n);
            assertThrows(
                    MalformedTensorFileException.class,
                    () -> reader.list(new BytesInputFile(name, prefix), folder, ReadLimits.DEFAULTS),
                    "prefix " + n);
        }
    }
}
