package io.sparktensors.format.zip;

import java.util.Objects;

/**
 * One member of a zip archive as its central directory and local header describe it.
 *
 * @param name the member's path inside the archive (checked: relative, no {@code ..} segment, unique)
 * @param method the compression method: {@link #STORED}, {@link #DEFLATED} or another code
 * @param compressedSize bytes the member takes in the file
 * @param uncompressedSize bytes of the member's contents
 * @param crc32 the CRC-32 of the contents, as the directory records it
 * @param dataOffset absolute file offset of the member's first data byte (after its local header)
 */
public record ZipMember(
        String name, int method, long compressedSize, long uncompressedSize, long crc32, long dataOffset) {
    /** Contents stored as they are. */
    public static final int STORED = 0;
    /** Contents compressed with deflate. */
    public static final int DEFLATED = 8;

    public ZipMember {
        Objects.requireNonNull(name, "name");
    }

    /** Whether the contents are the stored bytes, so {@code [dataOffset, dataOffset + uncompressedSize)} is them. */
    public boolean isStored() {
        return method == STORED;
    }
}
