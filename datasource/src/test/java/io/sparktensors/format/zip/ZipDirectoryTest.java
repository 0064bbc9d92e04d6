package io.sparktensors.format.zip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.io.LocalInputFile;
import io.sparktensors.io.ReadPolicy;
import io.sparktensors.io.SeekableInput;
import io.sparktensors.testing.BytesInputFile;
import io.sparktensors.testing.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;

/** The zip directory reader on a real torch.save archive and on archives made by java.util.zip. */
class ZipDirectoryTest {

    @Test
    void dataOffsetsComeFromTheLocalHeaders() throws IOException {
        // torch pads each record's local header with an extra field so the data is 64-byte aligned.
        Path zoo = Fixtures.reference("torch-zoo").resolve("zoo.pt");
        LocalInputFile file = new LocalInputFile(zoo);
        try (SeekableInput in = file.open(ReadPolicy.RANDOM)) {
            ZipDirectory dir = ZipDirectory.read(file.location(), in, file.length(), ReadLimits.DEFAULTS);
            assertEquals(26, dir.members().size());
            for (ZipMember m : dir.members()) {
                assertTrue(m.isStored(), m.name());
                assertEquals(0, m.dataOffset() % 64, "aligned data of " + m.name());
            }
            assertEquals(
                    "little", new String(dir.contents(in, dir.member("zoo/byteorder"), 16), StandardCharsets.US_ASCII));
            assertNull(dir.member("zoo/missing"));
        }
    }

    @Test
    void deflatedMembersInflateWithinTheirBound() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] text = "hello hello hello hello".getBytes(StandardCharsets.US_ASCII);
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.putNextEntry(new ZipEntry("dir/text"));
            zip.write(text);
            zip.closeEntry();
        }
        BytesInputFile file = new BytesInputFile("mem.zip", bytes.toByteArray());
        try (SeekableInput in = file.open(ReadPolicy.RANDOM)) {
            ZipDirectory dir = ZipDirectory.read("mem.zip", in, file.length(), ReadLimits.DEFAULTS);
            ZipMember m = dir.member("dir/text");
            assertEquals(ZipMember.DEFLATED, m.method());
            assertEquals(text.length, m.uncompressedSize());
            assertEquals(
                    new String(text, StandardCharsets.US_ASCII),
                    new String(dir.contents(in, m, 100), StandardCharsets.US_ASCII));
            MalformedTensorFileException e =
                    assertThrows(MalformedTensorFileException.class, () -> dir.contents(in, m, 10));
            assertTrue(e.getMessage().contains("over the limit of 10 bytes"), e.getMessage());
        }
    }

    @Test
    void memberCountIsBoundedByMaxTensors() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (int i = 0; i < 3; i++) {
                zip.putNextEntry(new ZipEntry("m" + i));
                zip.closeEntry();
            }
        }
        BytesInputFile file = new BytesInputFile("mem.zip", bytes.toByteArray());
        try (SeekableInput in = file.open(ReadPolicy.RANDOM)) {
            MalformedTensorFileException e = assertThrows(
                    MalformedTensorFileException.class,
                    () -> ZipDirectory.read("mem.zip", in, file.length(), new ReadLimits(1000, 2, 8)));
            assertTrue(e.getMessage().contains("3 members, over the limit of 2"), e.getMessage());
        }
    }
}
