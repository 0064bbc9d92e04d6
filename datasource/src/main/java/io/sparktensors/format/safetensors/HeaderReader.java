package io.sparktensors.format.safetensors;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.LittleEndian;
import io.sparktensors.io.InputFile;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Reads a safetensors header with at most two positioned reads: a first read of up to
 * {@link #FIRST_READ_BYTES} that usually holds the whole header, and a second one for the rest of a larger
 * header. The header length is bounded (by {@code maxHeaderBytes} and by the file length) before anything
 * is allocated from it.
 */
public final class HeaderReader {
    /** Bytes fetched by the first read; the headers of most shards fit. */
    public static final int FIRST_READ_BYTES = 64 * 1024;
    /** The reference library's limit on the JSON header. */
    public static final long DEFAULT_MAX_HEADER_BYTES = 100_000_000L;

    private HeaderReader() {}

    /** A parsed header and the bytes read to get it. */
    public record Result(SafetensorsHeader header, long bytesRead, int reads) {}

    public static Result read(InputFile file, long maxHeaderBytes) throws IOException {
        String location = file.location();
        long length = file.length();
        if (length < 8) {
            throw new MalformedTensorFileException(
                    location,
                    null,
                    "the file has " + length
                            + " bytes, fewer than the 8-byte header length every safetensors file starts with");
        }
        int first = (int) Math.min(length, FIRST_READ_BYTES);
        byte[] buf = new byte[first];
        try (SeekableInput in = file.open(ReadPolicy.RANDOM)) {
            in.readFully(0, buf, 0, first);
            long n = LittleEndian.getLong(buf, 0);
            checkHeaderLength(location, buf, n, length, maxHeaderBytes);
            int headerLength = (int) n;
            if (8 + headerLength <= first) {
                return new Result(HeaderParser.parse(location, buf, 8, headerLength, length), first, 1);
            }
            byte[] header = new byte[headerLength];
            System.arraycopy(buf, 8, header, 0, first - 8);
            in.readFully(first, header, first - 8, headerLength - (first - 8));
            return new Result(
                    HeaderParser.parse(location, header, 0, headerLength, length),
                    first + (long) headerLength - (first - 8),
                    2);
        }
    }

    private static void checkHeaderLength(String location, byte[] start, long n, long length, long max)
            throws MalformedTensorFileException {
        if (n >= 0 && n <= max && n <= Integer.MAX_VALUE - 8 && 8 + n <= length) {
            return;
        }
        String text = new String(start, 0, Math.min(start.length, 24), StandardCharsets.ISO_8859_1);
        if (text.startsWith("version https://git-lfs")) {
            throw new MalformedTensorFileException(
                    location,
                    null,
                    "this is a Git LFS pointer, not the file itself. "
                            + "Fetch the real file (git lfs pull) and read it again.");
        }
        if (n < 0 || 8 + n > length) {
            throw new MalformedTensorFileException(
                    location,
                    null,
                    "the header length " + Long.toUnsignedString(n)
                            + " in the first 8 bytes exceeds the file length " + length
                            + ". The file is truncated or not a safetensors file.");
        }
        throw new MalformedTensorFileException(
                location,
                null,
                "the header length " + n + " exceeds the limit of " + max
                        + " bytes. If the file is trusted, raise the read option maxHeaderBytes.");
    }
}
