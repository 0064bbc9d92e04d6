package io.sparktensors.format.pytorch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.TensorListing;
import io.sparktensors.format.pytorch.TorchBytes.Pickle;
import io.sparktensors.io.LocalFolderFiles;
import io.sparktensors.testing.BytesInputFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile pickles for the opcodes of protocols 3 to 5 and for the symbolic objects: each must be refused with
 * a message naming the file and the fault, quickly, or (symbolic objects that are not tensors) skipped.
 */
class PickleProtocolHostileTest {
    private static final PyTorchReader READER = new PyTorchReader();
    private static final byte[] SIX_FLOATS = TorchBytes.floats(1, 2, 3, 4, 5, 6);

    @TempDir
    Path tmp;

    private TensorListing list(byte[] pickle, ReadLimits limits) throws IOException {
        return READER.list(
                new BytesInputFile("mem.pt", TorchBytes.torchZip(pickle, SIX_FLOATS)),
                new LocalFolderFiles(tmp),
                limits);
    }

    private String refused(byte[] pickle) {
        return refused(pickle, ReadLimits.DEFAULTS);
    }

    private String refused(byte[] pickle, ReadLimits limits) {
        MalformedTensorFileException e = assertTimeoutPreemptively(
                Duration.ofSeconds(20),
                () -> assertThrows(MalformedTensorFileException.class, () -> list(pickle, limits)));
        assertTrue(e.getMessage().contains("mem.pt"), "names the file: " + e.getMessage());
        return e.getMessage();
    }

    private static void assertContains(String message, String part) {
        assertTrue(message.contains(part), "'" + part + "' in: " + message);
    }

    private static Pickle proto4() {
        return new Pickle().op(0x80, 4);
    }

    /** SHORT_BINUNICODE. */
    private static Pickle shortStr(Pickle p, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        p.op(0x8c, b.length);
        for (byte x : b) {
            p.op(x & 0xff);
        }
        return p;
    }

    @Test
    void framesMustLieWithinThePickle() {
        assertContains(refused(proto4().op(0x95).le(100, 8).op('N', '.').bytes()), "FRAME of 100 bytes");
        assertContains(refused(proto4().op(0x95).le(1L << 40, 8).op('N', '.').bytes()), "FRAME of 1099511627776");
        assertContains(refused(proto4().op(0x95).le(-1, 8).op('N', '.').bytes()), "FRAME of 18446744073709551615");
        assertContains(refused(proto4().op(0x95).le(3, 4).bytes()), "wants 1 bytes"); // the length itself is cut
    }

    @Test
    void eightByteLengthsAreCheckedBeforeAllocating() {
        assertContains(refused(proto4().op(0x8e).le(1L << 40, 8).op('.').bytes()), "wants 1099511627776 bytes");
        assertContains(refused(proto4().op(0x8d).le(-8, 8).op('.').bytes()), "beyond any pickle");
        assertContains(
                refused(proto4().op(0x96).le(Integer.MAX_VALUE, 8).op('.').bytes()), "wants 2147483647 bytes");
        assertContains(refused(proto4().op('B').le(0xffffffffL, 4).op('.').bytes()), "wants 4294967295 bytes");
        // Within the file, but not within the pickle's window.
        Pickle big = proto4().op(0x8e).le(2 << 20, 8);
        for (int i = 0; i < 100; i++) {
            big.op(0);
        }
        assertContains(refused(big.op('.').bytes(), new ReadLimits(1 << 20, 1000, 64)), "wants 2097152 bytes");
    }

    @Test
    void memoGrowthStopsAtTheLimit() {
        Pickle p = proto4().op('N');
        int limit = RestrictedUnpickler.MEMO_BASE + RestrictedUnpickler.MEMO_PER_TENSOR * 10;
        for (int i = 0; i <= limit; i++) {
            p.op(0x94);
        }
        assertContains(
                refused(p.op('.').bytes(), new ReadLimits(1 << 20, 10, 64)), "memo grows past " + limit + " entries");
    }

    @Test
    void newObjNeedsAClassAndBuildASymbolicTarget() {
        assertContains(
                refused(proto4().op('K', 1, ')', 0x81, '.').bytes()),
                "NEWOBJ creates an instance of a value" + " of type int, which is not a class");
        assertContains(
                refused(proto4().global("torch", "float32").op(')', 0x81, '.').bytes()),
                "NEWOBJ creates an instance of 'torch.float32'");
        assertContains(
                refused(proto4().global("x", "Y").op('K', 1, 0x81, '.').bytes()), "arguments that are not a tuple");
        assertContains(
                refused(proto4().global("x", "Y").op(')', 'K', 1, 0x92, '.').bytes()),
                "NEWOBJ_EX has keyword arguments that are not a dict");
        assertContains(
                refused(shortStr(proto4(), "text").op('}', 'b', '.').bytes()),
                "BUILD sets the state of a value" + " of type str");
        assertContains(refused(proto4().global("x", "Y").op('}', 'b', '.').bytes()), "BUILD sets the state of 'x.Y'");
        assertContains(
                refused(proto4().op('K', 1, '(', 'K', 2, 0x90, '.').bytes()), "ADDITEMS targets a value of type int");
    }

    @Test
    void stackGlobalNeedsShortStrings() {
        assertContains(
                refused(proto4().op('K', 1, 'K', 2, 0x93, '.').bytes()),
                "STACK_GLOBAL names its module or" + " attribute with a value of type int, not a string");
        Pickle longName = shortStr(proto4(), "os");
        assertContains(
                refused(shortStr(longName, "x".repeat(255))
                        .op(0x8c, 0)
                        .op(0x93, '.')
                        .bytes()),
                "not a short line of printable ASCII");
        assertContains(
                refused(shortStr(shortStr(proto4(), "os"), "sys\ntem")
                        .op(0x93, '.')
                        .bytes()),
                "not a short line of printable ASCII");
        assertContains(refused(proto4().op(0x93, '.').bytes()), "pops a value from an empty stack");
    }

    /** A module object of class Linear whose only submodule is {@code child} (pushed by the caller after). */
    private static Pickle moduleStart(Pickle p) {
        p.global("torch.nn.modules.linear", "Linear").op(')', 0x81, '}');
        shortStr(p, "_parameters").op('}', 's');
        shortStr(p, "_buffers").op('}', 's');
        return shortStr(p, "_modules").op('}');
    }

    @Test
    void deepModuleNestingIsRefused() {
        // No MARK is open across levels: only the walk of _modules meets the nesting limit.
        Pickle p = proto4();
        for (int i = 0; i < 300; i++) {
            shortStr(moduleStart(p), "m");
        }
        moduleStart(p).op('s', 'b');
        for (int i = 0; i < 300; i++) {
            p.op('s', 's', 'b');
        }
        assertContains(refused(p.op('.').bytes()), "nests containers deeper than 256 levels");
    }

    @Test
    void cyclicModulesAreRefused() {
        Pickle p = proto4().global("torch.nn.modules.linear", "Linear").op(')', 0x81, 0x94, '}');
        shortStr(p, "_parameters").op('}', 's');
        shortStr(p, "_buffers").op('}', 's');
        shortStr(shortStr(p, "_modules").op('}'), "self").op('h', 0, 's', 's', 'b', '.');
        assertContains(refused(p.bytes()), "the module at 'self' contains itself");
    }

    /** {@code _reconstruct(ndarray, (0,), b'b')} BUILD (1, shape, dtype('f4') BUILD (3, '<'), False, 8 bytes). */
    private static Pickle numpyArray(Pickle p, long[] shape) {
        p.global("numpy.core.multiarray", "_reconstruct")
                .global("numpy", "ndarray")
                .tuple(0)
                .op('C', 1, 'b', 0x87, 'R');
        p.op('(', 'K', 1).tuple(shape).global("numpy", "dtype");
        shortStr(p, "f4").op(0x89, 0x88, 0x87, 'R');
        return shortStr(p.op('K', 3), "<").op(0x86, 'b', 0x89, 'C', 8).le(0, 8).op('t', 'b');
    }

    @Test
    void aBareNumpyArrayIsNamedLikeABareTensor() throws IOException {
        TensorListing listing =
                list(numpyArray(proto4(), new long[] {2}).op('.').bytes(), ReadLimits.DEFAULTS);
        assertEquals(
                List.of("tensor"), listing.tensors().stream().map(t -> t.name()).toList());
    }

    @Test
    void numpyArraysThatDoNotAddUpAreSkipped() throws IOException {
        for (long[] shape : new long[][] {{3}, {1L << 62, 4}}) {
            Pickle p = shortStr(proto4().op('}'), "a");
            numpyArray(p, shape).op('s', '.');
            TensorListing listing = list(p.bytes(), ReadLimits.DEFAULTS);
            assertEquals(0, listing.tensors().size());
            assertEquals(1, listing.skipped().size());
            assertContains(
                    listing.skipped().get(0),
                    shape.length == 1 ? "of 8 bytes whose shape and dtype need 12" : "overflows 64 bits");
        }
    }

    @Test
    void symbolicObjectsRecordButNeverRun() throws IOException {
        // os.system('echo hi') REDUCE, then BUILD with garbage state: a record, skipped as not a tensor.
        Pickle p = proto4().op('}');
        shortStr(p, "x");
        shortStr(shortStr(p, "os"), "system").op(0x93);
        shortStr(p, "echo hi").op(0x85, 'R', 'K', 7, 'b', 's', '.');
        assertEquals(
                List.of("x: os.system object"),
                list(p.bytes(), ReadLimits.DEFAULTS).skipped());
    }
}
