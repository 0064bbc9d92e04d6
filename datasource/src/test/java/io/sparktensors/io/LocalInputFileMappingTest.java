package io.sparktensors.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Local files mapped for the scan: the mapping holds the file's bytes, a range past the file's end is refused
 * before anything is mapped, and a file truncated under a mapping makes the JVM raise an error where the pages
 * are loaded (the scan turns it into one naming the file), never a crash.
 */
class LocalInputFileMappingTest {
    @TempDir
    Path dir;

    @Test
    void aMappingHoldsTheFilesBytes() throws Exception {
        byte[] bytes = new byte[100_000];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 31);
        }
        Path file = Files.write(dir.resolve("f"), bytes);
        try (SeekableInput in = new LocalInputFile(file).open(ReadPolicy.SEQUENTIAL)) {
            assertTrue(in.canMap());
            MappedByteBuffer m = in.map(4096 + 7, 5000);
            for (int i = 0; i < 5000; i++) {
                assertEquals(bytes[4096 + 7 + i], m.get(i));
            }
            MappedBytes.release(m);
        }
    }

    @Test
    void aRangePastTheEndIsRefused() throws Exception {
        Path file = Files.write(dir.resolve("f"), new byte[1000]);
        try (SeekableInput in = new LocalInputFile(file).open(ReadPolicy.SEQUENTIAL)) {
            EOFException e = assertThrows(EOFException.class, () -> in.map(900, 200));
            assertTrue(e.getMessage().contains("shorter than its header says"), e.getMessage());
        }
    }

    @Test
    void aFileTruncatedUnderItsMappingRaisesAnErrorNotACrash() throws Exception {
        // What the scan's read ahead does with each batch's mapping (load). The JVM raises its error for the
        // missing page where the thread next notices, which may be a little after the faulting read: the thread
        // here records it wherever it comes.
        Path file = Files.write(dir.resolve("f"), new byte[8 << 20]);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MappedByteBuffer m = channel.map(FileChannel.MapMode.READ_ONLY, 0, 8 << 20);
            channel.truncate(4096);
            AtomicReference<Throwable> raised = new AtomicReference<>();
            Thread reader = new Thread(() -> {
                try {
                    m.load();
                    Thread.sleep(50);
                } catch (Throwable t) {
                    raised.compareAndSet(null, t);
                }
            });
            reader.setUncaughtExceptionHandler((t, e) -> raised.compareAndSet(null, e));
            reader.start();
            reader.join();
            assertTrue(raised.get() instanceof InternalError, String.valueOf(raised.get()));
        }
    }
}
