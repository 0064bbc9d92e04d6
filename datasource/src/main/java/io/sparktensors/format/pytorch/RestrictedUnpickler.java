package io.sparktensors.format.pytorch;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.pytorch.Pickled.Callable;
import io.sparktensors.format.pytorch.Pickled.ElementType;
import io.sparktensors.format.pytorch.Pickled.Global;
import io.sparktensors.format.pytorch.Pickled.Opaque;
import io.sparktensors.format.pytorch.Pickled.PyBytes;
import io.sparktensors.format.pytorch.Pickled.PyDict;
import io.sparktensors.format.pytorch.Pickled.PyList;
import io.sparktensors.format.pytorch.Pickled.PyObject;
import io.sparktensors.format.pytorch.Pickled.PySet;
import io.sparktensors.format.pytorch.Pickled.Storage;
import io.sparktensors.format.pytorch.Pickled.Symbol;
import io.sparktensors.format.pytorch.Pickled.Tensor;
import io.sparktensors.format.pytorch.Pickled.Tuple;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A purely symbolic pickle machine for what {@code torch.save} writes: the opcodes of pickle protocols 2 to 5
 * (out-of-band buffers, which never occur in files, are refused by name), and REDUCE on the allowlisted
 * callables of {@link TorchGlobals}, each of which builds a {@link Pickled} value. Nothing is imported or
 * called.
 *
 * <p>Any other global is refused in the strict mode. In the symbolic mode it becomes an inert {@link Symbol}:
 * REDUCE, NEWOBJ and NEWOBJ_EX on it build a {@link PyObject} that only records the symbol's name and the
 * arguments, and BUILD records its state there. Tensors still come only from the allowlisted torch rebuild
 * functions; {@link TensorPaths} reads modules and numpy arrays out of the symbolic objects afterwards.
 *
 * <p>Bounded: open MARKs at most {@code maxNesting}, the stack at most {@link #MAX_STACK} values, the memo at
 * most {@link #MAX_MEMO} entries (fewer under a low {@code maxTensors}), and every string, bytes and frame
 * no longer than the bytes left in the pickle's window (itself at most {@code maxHeaderBytes}). The machine
 * is a loop over opcodes with no recursion.
 */
final class RestrictedUnpickler {
    /**
     * Most values on the stack at once. Python's pickler batches APPENDS and SETITEMS by 1000 items, so real
     * pickles stay far below this.
     */
    static final int MAX_STACK = 1 << 20;
    /**
     * Most memo entries; a tensor takes about a dozen, so this allows millions of tensors. Fewer when the read
     * option maxTensors is lower: {@link #MEMO_PER_TENSOR} per tensor allowed, and {@link #MEMO_BASE} more.
     */
    static final int MAX_MEMO = 1 << 25;

    static final int MEMO_PER_TENSOR = 64;
    static final int MEMO_BASE = 1 << 16;
    /** Longest module or attribute name in a GLOBAL. */
    private static final int MAX_GLOBAL_NAME = 256;
    /** Longest LONG1/LONG4 integer, in bytes; torch writes at most 10 (the legacy magic number). */
    private static final int MAX_LONG_BYTES = 64;
    /** The last protocol read (torch.save's default pickle_protocol is 2). */
    private static final int PROTOCOL = 5;

    /** Resolves a persistent id (BINPERSID) to a value. */
    interface PersistentLoader {
        Object load(Tuple pid, long offset) throws MalformedTensorFileException;
    }

    private final PickleInput in;
    private final ReadLimits limits;
    private final PersistentLoader loader;
    private final boolean symbolic;
    private final List<Object> stack = new ArrayList<>();
    private final int[] marks;
    private int markDepth;
    private final Map<Long, Object> memo = new HashMap<>();
    private final long maxMemo;
    private long opcodeOffset;

    private RestrictedUnpickler(PickleInput in, ReadLimits limits, PersistentLoader loader, boolean symbolic) {
        this.in = in;
        this.limits = limits;
        this.loader = loader;
        this.symbolic = symbolic;
        this.maxMemo = Math.min(MAX_MEMO, MEMO_BASE + (long) MEMO_PER_TENSOR * limits.maxTensors());
        this.marks = new int[limits.maxNesting()];
    }

    /**
     * Runs one pickle from the current position of {@code in} to its STOP and returns its value.
     *
     * @param loader resolves persistent ids, or null for a pickle that must hold none
     * @param symbolic whether globals outside the allowlist become {@link Symbol}s (else they are refused)
     */
    static Object load(PickleInput in, ReadLimits limits, PersistentLoader loader, boolean symbolic)
            throws IOException {
        return new RestrictedUnpickler(in, limits, loader, symbolic).run();
    }

    private Object run() throws IOException {
        while (true) {
            opcodeOffset = in.position();
            int op = in.readByte();
            switch (op) {
                case 0x80 -> { // PROTO
                    int version = in.readByte();
                    if (version > PROTOCOL) {
                        throw fault("it is pickle protocol " + version + "; protocols 2 to " + PROTOCOL + " are read");
                    }
                }
                case '.' -> { // STOP
                    return pop();
                }
                case '(' -> { // MARK
                    if (markDepth == marks.length) {
                        throw fault("it nests deeper than " + marks.length + " levels (the read option maxNesting)");
                    }
                    marks[markDepth++] = stack.size();
                }
                case '0' -> pop(); // POP
                case '1' -> popMark(); // POP_MARK
                case '2' -> push(peek()); // DUP
                case 'N' -> push(null);
                case 0x88 -> push(Boolean.TRUE); // NEWTRUE
                case 0x89 -> push(Boolean.FALSE); // NEWFALSE
                case 'K' -> push((long) in.readByte()); // BININT1
                case 'M' -> push(in.readUnsigned(2)); // BININT2
                case 'J' -> push((long) (int) in.readUnsigned(4)); // BININT
                case 0x8a -> push(readLong(in.readByte())); // LONG1
                case 0x8b -> push(readLong(in.readUnsigned(4))); // LONG4
                case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(in.readUnsigned(8)))); // BINFLOAT
                case 'X' -> push(readString(in.readUnsigned(4))); // BINUNICODE
                case 'T' -> push(readString((int) in.readUnsigned(4))); // BINSTRING (signed length)
                case 'U' -> push(readString(in.readByte())); // SHORT_BINSTRING
                case 0x8c -> push(readString(in.readByte())); // SHORT_BINUNICODE
                case 0x8d -> push(readString(in.readUnsigned(8))); // BINUNICODE8
                case 'C' -> push(readBytes(in.readByte())); // SHORT_BINBYTES
                case 'B' -> push(readBytes(in.readUnsigned(4))); // BINBYTES
                case 0x8e -> push(readBytes(in.readUnsigned(8))); // BINBYTES8
                case 0x96 -> { // BYTEARRAY8: its contents are not needed, only its bounds
                    readBytes(in.readUnsigned(8));
                    push(new Opaque("bytearray"));
                }
                case 0x95 -> frame(in.readUnsigned(8)); // FRAME
                case 0x94 -> memoPut(memo.size()); // MEMOIZE
                case 0x8f -> push(new PySet()); // EMPTY_SET
                case 0x90 -> { // ADDITEMS
                    List<Object> items = popMark();
                    set(peek()).items.addAll(items);
                }
                case 0x91 -> { // FROZENSET
                    PySet s = new PySet();
                    s.items.addAll(popMark());
                    push(s);
                }
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    push(global(globalName(module), globalName(name)));
                }
                case ')' -> push(new Tuple(List.of())); // EMPTY_TUPLE
                case 0x85 -> push(tupleOfLast(1)); // TUPLE1
                case 0x86 -> push(tupleOfLast(2)); // TUPLE2
                case 0x87 -> push(tupleOfLast(3)); // TUPLE3
                case 't' -> push(new Tuple(popMark())); // TUPLE
                case ']' -> push(new PyList()); // EMPTY_LIST
                case '}' -> push(new PyDict()); // EMPTY_DICT
                case 'a' -> { // APPEND
                    Object v = pop();
                    list(peek()).items.add(v);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark();
                    list(peek()).items.addAll(items);
                }
                case 's' -> { // SETITEM
                    Object v = pop();
                    Object k = pop();
                    put(dict(peek()), k, v);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark();
                    if (items.size() % 2 != 0) {
                        throw fault("SETITEMS has an odd number of keys and values");
                    }
                    PyDict d = dict(peek());
                    for (int i = 0; i < items.size(); i += 2) {
                        put(d, items.get(i), items.get(i + 1));
                    }
                }
                case 'q' -> memoPut(in.readByte()); // BINPUT
                case 'r' -> memoPut(in.readUnsigned(4)); // LONG_BINPUT
                case 'h' -> memoGet(in.readByte()); // BINGET
                case 'j' -> memoGet(in.readUnsigned(4)); // LONG_BINGET
                case 'c' -> push(global(in.readLine(MAX_GLOBAL_NAME), in.readLine(MAX_GLOBAL_NAME))); // GLOBAL
                case 'R' -> { // REDUCE
                    Object args = pop();
                    Object callable = pop();
                    push(reduce(callable, args));
                }
                case 'b' -> { // BUILD
                    Object state = pop();
                    build(peek(), state);
                }
                case 'Q' -> { // BINPERSID
                    Object pid = pop();
                    if (!(pid instanceof Tuple t) || loader == null) {
                        throw fault("a persistent id appears where none may be (BINPERSID)");
                    }
                    push(loader.load(t, opcodeOffset));
                }
                case 0x81 -> { // NEWOBJ
                    Object args = pop();
                    Object cls = pop();
                    push(newObject(cls, args, null));
                }
                case 0x92 -> { // NEWOBJ_EX
                    Object kwargs = pop();
                    Object args = pop();
                    Object cls = pop();
                    if (!(kwargs instanceof PyDict d)) {
                        throw fault("NEWOBJ_EX has keyword arguments that are not a dict");
                    }
                    push(newObject(cls, args, d));
                }
                default -> throw unsupportedOpcode(op);
            }
        }
    }

    private MalformedTensorFileException unsupportedOpcode(int op) {
        String name = switch (op) {
            case 0x97 -> "NEXT_BUFFER (protocol 5 out-of-band buffer, which a file cannot carry)";
            case 0x98 -> "READONLY_BUFFER (protocol 5 out-of-band buffer, which a file cannot carry)";
            case 0x82, 0x83, 0x84 -> "EXT (extension registry)";
            case 'i' -> "INST";
            case 'o' -> "OBJ";
            case 'P' -> "PERSID (text)";
            default -> op >= 0x20 && op < 0x7f ? "'" + (char) op + "' (a text opcode of protocol 0)" : null;
        };
        String what = name == null ? "unknown opcode 0x" + Integer.toHexString(op) : "opcode " + name;
        return fault(what + " is not supported; only the binary opcodes of pickle protocols 2 to 5 are read."
                + " Re-save the checkpoint with torch.save");
    }

    /** A frame is only a read-ahead hint; its length must still lie within the pickle. */
    private void frame(long length) throws MalformedTensorFileException {
        if (length < 0 || length > in.remaining()) {
            throw fault("a FRAME of " + Long.toUnsignedString(length) + " bytes reaches beyond the " + in.remaining()
                    + " bytes left in the pickle; the file is truncated or corrupt");
        }
    }

    /** A STACK_GLOBAL operand: a short printable string, as a GLOBAL line must be. */
    private String globalName(Object v) throws MalformedTensorFileException {
        if (!(v instanceof String s)
                || s.isEmpty()
                || s.length() > MAX_GLOBAL_NAME
                || !s.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
            throw fault("STACK_GLOBAL names its module or attribute with "
                    + (v instanceof String
                            ? "a string that is" + " not a short line of printable ASCII"
                            : describe(v) + ", not a string"));
        }
        return s;
    }

    /** NEWOBJ: {@code cls.__new__(cls, *args)}, symbolically. */
    private Object newObject(Object cls, Object argsValue, PyDict kwargs) throws MalformedTensorFileException {
        if (!(argsValue instanceof Tuple args)) {
            throw fault("NEWOBJ on " + describe(cls) + " has arguments that are not a tuple");
        }
        if (cls instanceof Symbol s) {
            return new PyObject(s.qualifiedName(), args.items, kwargs);
        }
        if (cls instanceof Global g && g.meaning() == Callable.ORDERED_DICT) {
            return new PyDict();
        }
        throw fault("NEWOBJ creates an instance of " + describe(cls) + ", which is not a class"
                + (symbolic
                        ? ""
                        : "; in the strict pickle mode only tensors, dicts, lists, tuples and scalars are read"
                                + " (a whole pickled nn.Module or numpy array is not: save a state_dict, or read with the option"
                                + " pickle=symbolic)"));
    }

    private Object global(String module, String name) throws MalformedTensorFileException {
        String qualified = module + "." + name;
        Object meaning = TorchGlobals.meaning(qualified);
        if (meaning == null) {
            if (symbolic) {
                return new Symbol(qualified);
            }
            throw fault("global '" + MalformedTensorFileException.printable(qualified) + "' is not allowed in the"
                    + " strict pickle mode; only the torch tensor, storage and dtype globals of a state_dict are read. If"
                    + " this is a whole pickled object (a module, a numpy array), read with the option pickle=symbolic"
                    + " (the default), or save a state_dict of tensors instead");
        }
        return new Global(qualified, meaning);
    }

    private Object reduce(Object callable, Object argsValue) throws MalformedTensorFileException {
        if (callable instanceof Symbol s) {
            if (!(argsValue instanceof Tuple t)) {
                throw fault("REDUCE on " + describe(s) + " has arguments that are not a tuple");
            }
            return new PyObject(s.qualifiedName(), t.items, null);
        }
        if (!(callable instanceof Global g) || !(g.meaning() instanceof Callable c)) {
            throw fault("REDUCE calls " + describe(callable) + ", which is not a function torch.save pickles call");
        }
        if (!(argsValue instanceof Tuple t)) {
            throw fault("REDUCE on '" + g.qualifiedName() + "' has arguments that are not a tuple");
        }
        List<Object> args = t.items;
        String fn = g.qualifiedName();
        return switch (c) {
            case ORDERED_DICT -> {
                arity(fn, args, 0, 0);
                yield new PyDict();
            }
            case REBUILD_TENSOR -> {
                arity(fn, args, 4, 4);
                yield tensor(fn, args, null);
            }
            case REBUILD_TENSOR_V2 -> {
                arity(fn, args, 6, 7);
                yield tensor(fn, args, null);
            }
            case REBUILD_TENSOR_V3 -> {
                arity(fn, args, 7, 8);
                if (!(args.get(6) instanceof Global d && d.meaning() instanceof ElementType dt)
                        || dt.torchName().endsWith("Storage")
                        || dt.untyped()) {
                    throw fault("'" + fn + "' has a dtype argument that is not a torch dtype");
                }
                yield tensor(fn, args, dt);
            }
            case REBUILD_PARAMETER -> {
                arity(fn, args, 3, 3);
                yield tensorArgument(fn, args.get(0));
            }
            case REBUILD_PARAMETER_WITH_STATE -> {
                arity(fn, args, 4, 4);
                yield tensorArgument(fn, args.get(0));
            }
            case PARAMETER -> {
                arity(fn, args, 1, 2);
                yield tensorArgument(fn, args.get(0));
            }
            case REBUILD_QTENSOR -> new Opaque("quantized tensor");
            case CODECS_ENCODE -> {
                arity(fn, args, 2, 2);
                if (!(args.get(0) instanceof String text)
                        || !("latin1".equals(args.get(1)) || "latin-1".equals(args.get(1)))) {
                    throw fault("'_codecs.encode' is called with other arguments than a string and 'latin1'");
                }
                yield latin1(text);
            }
            case SET, FROZENSET -> {
                arity(fn, args, 0, 1);
                PySet set = new PySet();
                if (args.size() == 1) {
                    if (!(args.get(0) instanceof PyList l)) {
                        throw fault("'" + fn + "' is called on " + describe(args.get(0)) + ", not a list");
                    }
                    set.items.addAll(l.items);
                }
                yield set;
            }
            case BYTEARRAY -> {
                arity(fn, args, 0, 1);
                yield new Opaque("bytes");
            }
            case TORCH_SIZE -> {
                arity(fn, args, 1, 1);
                if (!(args.get(0) instanceof Tuple size)) {
                    throw fault("'torch.Size' is called with an argument that is not a tuple");
                }
                yield size;
            }
            case TORCH_DEVICE -> {
                arity(fn, args, 1, 2);
                yield new Opaque("torch.device");
            }
        };
    }

    private Tensor tensor(String fn, List<Object> args, ElementType explicitType) throws MalformedTensorFileException {
        if (!(args.get(0) instanceof Storage storage)) {
            throw fault("'" + fn + "' is called on " + describe(args.get(0)) + ", not a storage");
        }
        ElementType type = storage.type();
        if (explicitType != null) {
            if (!type.untyped() && !sameElements(type, explicitType)) {
                throw fault("'" + fn + "' gives dtype " + explicitType.torchName() + " for a storage of class "
                        + type.torchName());
            }
            type = explicitType;
        } else if (type.untyped()) {
            throw fault("'" + fn + "' rebuilds a tensor on an untyped storage without a dtype");
        }
        long offset = natural(fn, args.get(1), "storage offset");
        long[] size = naturals(fn, args.get(2), "size");
        long[] stride = naturals(fn, args.get(3), "stride");
        if (size.length != stride.length) {
            throw fault("'" + fn + "' has a size of rank " + size.length + " but a stride of rank " + stride.length);
        }
        return new Tensor(storage, type, offset, size, stride);
    }

    private static boolean sameElements(ElementType storageType, ElementType dtype) {
        return storageType.dtype() == dtype.dtype() && storageType.elementSize() == dtype.elementSize();
    }

    private Object tensorArgument(String fn, Object v) throws MalformedTensorFileException {
        if (!(v instanceof Tensor || v instanceof Opaque o && o.type().equals("quantized tensor"))) {
            throw fault("'" + fn + "' is called on " + describe(v) + ", not a tensor");
        }
        return v;
    }

    private long natural(String fn, Object v, String what) throws MalformedTensorFileException {
        if (!(v instanceof Long n) || n < 0) {
            throw fault("'" + fn + "' has a " + what + " that is not a non-negative integer");
        }
        return n;
    }

    private long[] naturals(String fn, Object v, String what) throws MalformedTensorFileException {
        if (!(v instanceof Tuple t)) {
            throw fault("'" + fn + "' has a " + what + " that is not a tuple");
        }
        if (t.items.size() > PyTorchReader.MAX_RANK) {
            throw fault("'" + fn + "' has a " + what + " of rank " + t.items.size() + ", over the limit of "
                    + PyTorchReader.MAX_RANK);
        }
        long[] out = new long[t.items.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = natural(fn, t.items.get(i), what);
        }
        return out;
    }

    private void arity(String fn, List<Object> args, int min, int max) throws MalformedTensorFileException {
        if (args.size() < min || args.size() > max) {
            throw fault("'" + fn + "' is called with " + args.size() + " arguments; torch passes "
                    + (min == max ? String.valueOf(min) : min + " to " + max));
        }
    }

    private void build(Object target, Object state) throws MalformedTensorFileException {
        if (target instanceof PyObject o) {
            o.state = state; // recorded, never applied: what it means is read afterwards, by TensorPaths
            return;
        }
        if (target instanceof Tensor) {
            return; // a parameter's state in torch before 1.0 (requires_grad, hooks): not part of its values
        }
        // An OrderedDict's attributes (a state_dict's _metadata): attributes, never items, so they are dropped.
        boolean attributes = state == null
                || state instanceof PyDict
                || state instanceof Tuple t
                        && t.items.size() == 2
                        && t.items.stream().allMatch(s -> s == null || s instanceof PyDict);
        if (!(target instanceof PyDict) || !attributes) {
            throw fault("BUILD sets the state of " + describe(target) + "; only the state of a dict, a tensor or"
                    + (symbolic ? " an object" : " (with the option pickle=symbolic) an object") + " is read");
        }
    }

    private void put(PyDict d, Object key, Object value) throws MalformedTensorFileException {
        boolean scalar = key == null
                || key instanceof String
                || key instanceof Long
                || key instanceof Boolean
                || key instanceof Double
                || key instanceof BigInteger;
        // Symbolic records as keys (DCP's MetadataIndex, tuples) are kept by identity: they are never hashed
        // by content, so no key can drive a walk of its contents.
        if (!scalar && !(symbolic && (key instanceof PyObject || key instanceof Tuple))) {
            throw fault("a dict key is " + describe(key) + "; only string and number keys are read");
        }
        d.items.put(key, value);
    }

    private Object readLong(long n) throws IOException {
        if (n > MAX_LONG_BYTES) {
            throw fault("an integer of " + n + " bytes is longer than the " + MAX_LONG_BYTES + " bytes allowed");
        }
        byte[] le = in.readBytes(n);
        if (n == 0) {
            return 0L;
        }
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) {
            be[i] = le[le.length - 1 - i];
        }
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    /** Python 2's way to pickle bytes: each byte a character of a latin-1 string. */
    private PyBytes latin1(String text) throws MalformedTensorFileException {
        byte[] out = new byte[text.length()];
        for (int i = 0; i < out.length; i++) {
            char c = text.charAt(i);
            if (c > 0xff) {
                throw fault("'_codecs.encode' is called on a string that is not latin-1");
            }
            out[i] = (byte) c;
        }
        return new PyBytes(out, -1);
    }

    private PyBytes readBytes(long n) throws IOException {
        if (n < 0) {
            throw fault("bytes have the length " + Long.toUnsignedString(n) + ", beyond any pickle");
        }
        long at = in.position();
        byte[] data = in.readBytes(n);
        return new PyBytes(data, in.fileOffset(at));
    }

    private String readString(long n) throws IOException {
        if (n < 0) {
            throw fault("a string has the length " + Long.toUnsignedString(n) + ", beyond any pickle");
        }
        return new String(in.readBytes(n), StandardCharsets.UTF_8);
    }

    private Tuple tupleOfLast(int n) throws MalformedTensorFileException {
        if (stack.size() - floor() < n) {
            throw fault("a TUPLE" + n + " finds fewer than " + n + " values on the stack");
        }
        List<Object> top = stack.subList(stack.size() - n, stack.size());
        Tuple t = new Tuple(top);
        top.clear();
        return t;
    }

    private List<Object> popMark() throws MalformedTensorFileException {
        if (markDepth == 0) {
            throw fault("an opcode needs a MARK but none is open");
        }
        int mark = marks[--markDepth];
        List<Object> top = stack.subList(mark, stack.size());
        List<Object> items = new ArrayList<>(top);
        top.clear();
        return items;
    }

    private int floor() {
        return markDepth == 0 ? 0 : marks[markDepth - 1];
    }

    private void push(Object v) throws MalformedTensorFileException {
        if (stack.size() >= MAX_STACK) {
            throw fault("its stack grows past " + MAX_STACK + " values");
        }
        stack.add(v);
    }

    private Object pop() throws MalformedTensorFileException {
        if (stack.size() <= floor()) {
            throw fault("an opcode pops a value from an empty stack");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object peek() throws MalformedTensorFileException {
        if (stack.size() <= floor()) {
            throw fault("an opcode needs a value on an empty stack");
        }
        return stack.get(stack.size() - 1);
    }

    private void memoPut(long index) throws MalformedTensorFileException {
        if (memo.size() >= maxMemo && !memo.containsKey(index)) {
            throw fault("its memo grows past " + maxMemo + " entries. If the file is trusted, raise the read option"
                    + " maxTensors");
        }
        memo.put(index, peek());
    }

    private void memoGet(long index) throws MalformedTensorFileException {
        if (!memo.containsKey(index)) {
            throw fault("it reads memo entry " + index + ", which was never stored");
        }
        push(memo.get(index));
    }

    private PyList list(Object v) throws MalformedTensorFileException {
        if (!(v instanceof PyList l)) {
            throw fault("APPEND targets " + describe(v) + ", not a list");
        }
        return l;
    }

    private PySet set(Object v) throws MalformedTensorFileException {
        if (!(v instanceof PySet s)) {
            throw fault("ADDITEMS targets " + describe(v) + ", not a set");
        }
        return s;
    }

    private PyDict dict(Object v) throws MalformedTensorFileException {
        if (!(v instanceof PyDict d)) {
            throw fault("SETITEM targets " + describe(v) + ", not a dict");
        }
        return d;
    }

    /** A short description of a value for messages. */
    static String describe(Object v) {
        if (v instanceof Global g) {
            return "'" + MalformedTensorFileException.printable(g.qualifiedName()) + "'";
        } else if (v instanceof Symbol s) {
            return "'" + MalformedTensorFileException.printable(s.qualifiedName()) + "'";
        }
        return "a value of type " + typeName(v);
    }

    /** The Python type of a value, as messages and skipped entries name it. */
    static String typeName(Object v) {
        if (v == null) {
            return "None";
        } else if (v instanceof String) {
            return "str";
        } else if (v instanceof Long || v instanceof BigInteger) {
            return "int";
        } else if (v instanceof Boolean) {
            return "bool";
        } else if (v instanceof Double) {
            return "float";
        } else if (v instanceof Tuple) {
            return "tuple";
        } else if (v instanceof PyList) {
            return "list";
        } else if (v instanceof PyDict) {
            return "dict";
        } else if (v instanceof Opaque o) {
            return o.type();
        } else if (v instanceof Storage) {
            return "storage";
        } else if (v instanceof Tensor) {
            return "tensor";
        } else if (v instanceof PySet) {
            return "set";
        } else if (v instanceof PyBytes) {
            return "bytes";
        } else if (v instanceof PyObject o) {
            return MalformedTensorFileException.printable(o.type) + " object";
        }
        return "global";
    }

    private MalformedTensorFileException fault(String what) {
        return new MalformedTensorFileException(
                in.file(), null, "the pickle at offset " + opcodeOffset + ": " + what + ".");
    }
}
