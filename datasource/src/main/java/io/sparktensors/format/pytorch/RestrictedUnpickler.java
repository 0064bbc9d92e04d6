package io.sparktensors.format.pytorch;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.pytorch.Pickled.Callable;
import io.sparktensors.format.pytorch.Pickled.ElementType;
import io.sparktensors.format.pytorch.Pickled.Global;
import io.sparktensors.format.pytorch.Pickled.Opaque;
import io.sparktensors.format.pytorch.Pickled.PyDict;
import io.sparktensors.format.pytorch.Pickled.PyList;
import io.sparktensors.format.pytorch.Pickled.Storage;
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
 * A purely symbolic pickle machine for what {@code torch.save} writes: the opcodes of pickle protocol 2
 * that torch's pickles use, globals from {@link TorchGlobals} only, and REDUCE only on the allowlisted
 * callables, each of which builds a {@link Pickled} value. Nothing is imported or called. Opcodes of later
 * protocols are refused by name; so is every other global.
 *
 * <p>Bounded: open MARKs at most {@code maxNesting}, the stack at most {@link #MAX_STACK} values, the memo at
 * most {@link #MAX_MEMO} entries, and every string no longer than the bytes left in the pickle's window. The
 * machine is a loop over opcodes with no recursion.
 */
final class RestrictedUnpickler {
  /**
   * Most values on the stack at once. Python's pickler batches APPENDS and SETITEMS by 1000 items, so real
   * pickles stay far below this.
   */
  static final int MAX_STACK = 1 << 20;
  /** Most memo entries; a tensor takes about a dozen, so this allows millions of tensors. */
  static final int MAX_MEMO = 1 << 25;
  /** Longest module or attribute name in a GLOBAL. */
  private static final int MAX_GLOBAL_NAME = 256;
  /** Longest LONG1/LONG4 integer, in bytes; torch writes at most 10 (the legacy magic number). */
  private static final int MAX_LONG_BYTES = 64;
  /** The last protocol read; torch.save's default pickle_protocol. */
  private static final int PROTOCOL = 2;

  /** Resolves a persistent id (BINPERSID) to a value. */
  interface PersistentLoader {
    Object load(Tuple pid, long offset) throws MalformedTensorFileException;
  }

  private final PickleInput in;
  private final ReadLimits limits;
  private final PersistentLoader loader;
  private final List<Object> stack = new ArrayList<>();
  private final int[] marks;
  private int markDepth;
  private final Map<Long, Object> memo = new HashMap<>();
  private long opcodeOffset;

  private RestrictedUnpickler(PickleInput in, ReadLimits limits, PersistentLoader loader) {
    this.in = in;
    this.limits = limits;
    this.loader = loader;
    this.marks = new int[limits.maxNesting()];
  }

  /**
   * Runs one pickle from the current position of {@code in} to its STOP and returns its value.
   *
   * @param loader resolves persistent ids, or null for a pickle that must hold none
   */
  static Object load(PickleInput in, ReadLimits limits, PersistentLoader loader) throws IOException {
    return new RestrictedUnpickler(in, limits, loader).run();
  }

  private Object run() throws IOException {
    while (true) {
      opcodeOffset = in.position();
      int op = in.readByte();
      switch (op) {
        case 0x80 -> { // PROTO
          int version = in.readByte();
          if (version > PROTOCOL) {
            throw fault("it is pickle protocol " + version + "; only protocol 2 is read. Re-save the"
                + " checkpoint with torch.save(..., pickle_protocol=2), the default");
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
          pop();
          throw fault("NEWOBJ creates an instance of " + describe(pop()) + "; only tensors, dicts, lists,"
              + " tuples and scalars are read (a whole pickled nn.Module or other object is not: save its"
              + " state_dict instead)");
        }
        default -> throw unsupportedOpcode(op);
      }
    }
  }

  private MalformedTensorFileException unsupportedOpcode(int op) {
    String name = switch (op) {
      case 'B' -> "BINBYTES (protocol 3)";
      case 'C' -> "SHORT_BINBYTES (protocol 3)";
      case 0x8c -> "SHORT_BINUNICODE (protocol 4)";
      case 0x8d -> "BINUNICODE8 (protocol 4)";
      case 0x8e -> "BINBYTES8 (protocol 4)";
      case 0x8f -> "EMPTY_SET (protocol 4)";
      case 0x90 -> "ADDITEMS (protocol 4)";
      case 0x91 -> "FROZENSET (protocol 4)";
      case 0x92 -> "NEWOBJ_EX (protocol 4)";
      case 0x93 -> "STACK_GLOBAL (protocol 4)";
      case 0x94 -> "MEMOIZE (protocol 4)";
      case 0x95 -> "FRAME (protocol 4)";
      case 0x96 -> "BYTEARRAY8 (protocol 5)";
      case 0x97 -> "NEXT_BUFFER (protocol 5)";
      case 0x98 -> "READONLY_BUFFER (protocol 5)";
      case 0x82, 0x83, 0x84 -> "EXT (extension registry)";
      case 'i' -> "INST";
      case 'o' -> "OBJ";
      case 'P' -> "PERSID (text)";
      default -> op >= 0x20 && op < 0x7f ? "'" + (char) op + "' (a text opcode of protocol 0)" : null;
    };
    String what = name == null ? "unknown opcode 0x" + Integer.toHexString(op) : "opcode " + name;
    return fault(what + " is not supported; only the protocol 2 opcodes torch.save writes are read. Re-save"
        + " the checkpoint with torch.save(..., pickle_protocol=2), the default");
  }

  private Object global(String module, String name) throws MalformedTensorFileException {
    String qualified = module + "." + name;
    Object meaning = TorchGlobals.meaning(qualified);
    if (meaning == null) {
      throw fault("global '" + MalformedTensorFileException.printable(qualified) + "' is not allowed; only"
          + " the torch tensor, storage and dtype globals of a state_dict are read. If this is a whole pickled"
          + " object (a module, a numpy array), save a state_dict of tensors instead");
    }
    return new Global(qualified, meaning);
  }

  private Object reduce(Object callable, Object argsValue) throws MalformedTensorFileException {
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
            || dt.torchName().endsWith("Storage") || dt.untyped()) {
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
        if (!(args.get(0) instanceof String) || !("latin1".equals(args.get(1)) || "latin-1".equals(args.get(1)))) {
          throw fault("'_codecs.encode' is called with other arguments than a string and 'latin1'");
        }
        yield new Opaque("bytes");
      }
      case SET, FROZENSET -> {
        arity(fn, args, 0, 1);
        yield new Opaque("set");
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

  private Tensor tensor(String fn, List<Object> args, ElementType explicitType)
      throws MalformedTensorFileException {
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
    // An OrderedDict's attributes (a state_dict's _metadata): attributes, never items, so they are dropped.
    boolean attributes = state == null || state instanceof PyDict
        || state instanceof Tuple t && t.items.size() == 2 && t.items.stream().allMatch(
            s -> s == null || s instanceof PyDict);
    if (!(target instanceof PyDict) || !attributes) {
      throw fault("BUILD sets the state of " + describe(target) + "; only the attributes of a dict are read");
    }
  }

  private void put(PyDict d, Object key, Object value) throws MalformedTensorFileException {
    if (!(key == null || key instanceof String || key instanceof Long || key instanceof Boolean
        || key instanceof Double || key instanceof BigInteger)) {
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

  private String readString(long n) throws IOException {
    if (n < 0) {
      throw fault("a string has the negative length " + n);
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
    if (memo.size() >= MAX_MEMO && !memo.containsKey(index)) {
      throw fault("its memo grows past " + MAX_MEMO + " entries");
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
    }
    return "global";
  }

  private MalformedTensorFileException fault(String what) {
    return new MalformedTensorFileException(in.file(), null, "the pickle at offset " + opcodeOffset + ": "
        + what + ".");
  }
}
