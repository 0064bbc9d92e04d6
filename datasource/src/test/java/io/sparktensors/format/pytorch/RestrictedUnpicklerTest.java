package io.sparktensors.format.pytorch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.pytorch.Pickled.Global;
import io.sparktensors.format.pytorch.Pickled.PyDict;
import io.sparktensors.format.pytorch.Pickled.PyList;
import io.sparktensors.format.pytorch.Pickled.PyObject;
import io.sparktensors.format.pytorch.Pickled.Tuple;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The unpickler on its own: a protocol 4 pickle of dataclasses (DCP's .metadata, written by torch). */
class RestrictedUnpicklerTest {
    private static Object load(boolean symbolic) throws IOException {
        byte[] bytes = Files.readAllBytes(PyTorchPickleGoldenTest.golden("dcp").resolve("metadata.pkl"));
        return RestrictedUnpickler.load(PickleInput.of(".metadata", bytes), ReadLimits.DEFAULTS, null, symbolic);
    }

    /** A field of a record's BUILD state: a dict, or (dict or None, slots dict) for a dataclass with slots. */
    private static Object field(Object o, String name) {
        Object state = ((PyObject) o).state;
        if (state instanceof Tuple t) {
            for (Object part : t.items) {
                if (part instanceof PyDict d && d.items.containsKey(name)) {
                    return d.items.get(name);
                }
            }
            return null;
        }
        return ((PyDict) state).items.get(name);
    }

    @Test
    void dataclassesOfProtocol4AreSymbolicObjectsWithTheirState() throws IOException {
        Object root = load(true);
        PyObject metadata = assertInstanceOf(PyObject.class, root);
        assertEquals("torch.distributed.checkpoint.metadata.Metadata", metadata.type);
        PyDict tensors = assertInstanceOf(PyDict.class, field(metadata, "state_dict_metadata"));
        assertEquals(List.of("w", "b", "step"), List.copyOf(tensors.items.keySet()));

        PyObject w = assertInstanceOf(PyObject.class, tensors.items.get("w"));
        assertEquals("torch.distributed.checkpoint.metadata.TensorStorageMetadata", w.type);
        assertEquals(List.of(2L, 3L), assertInstanceOf(Tuple.class, field(w, "size")).items, "torch.Size is a tuple");
        // TensorProperties pickles its own state tuple: (dtype, layout, requires_grad, memory_format, pin_memory).
        PyObject properties = assertInstanceOf(PyObject.class, field(w, "properties"));
        List<Object> state = assertInstanceOf(Tuple.class, properties.state).items;
        assertEquals(
                "torch.float32", assertInstanceOf(Global.class, state.get(0)).qualifiedName());
        PyList chunks = assertInstanceOf(PyList.class, field(w, "chunks"));
        PyObject chunk = assertInstanceOf(PyObject.class, chunks.items.get(0));
        assertEquals(List.of(0L, 0L), ((Tuple) field(chunk, "offsets")).items);

        PyObject layout = assertInstanceOf(PyObject.class, state.get(1));
        assertEquals("torch.serialization._get_layout", layout.type, "a function call is only recorded");
        assertEquals(List.of("torch.strided"), layout.args);
    }

    @Test
    void strictModeRefusesTheFirstDataclass() {
        MalformedTensorFileException e = assertThrows(MalformedTensorFileException.class, () -> load(false));
        assertTrue(
                e.getMessage().contains("global 'torch.distributed.checkpoint.metadata.Metadata' is not allowed"),
                e.getMessage());
    }
}
