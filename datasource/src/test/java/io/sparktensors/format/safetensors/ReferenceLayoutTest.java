package io.sparktensors.format.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparktensors.format.DType;
import io.sparktensors.io.LocalInputFile;
import io.sparktensors.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The header writer and layout reproduce, byte for byte, the headers the safetensors reference writer
 * produced for the fixtures (given the same tensors in any order, and the same metadata).
 */
class ReferenceLayoutTest {

    static List<Path> referenceWritten() {
        return List.of(
                Fixtures.reference("tiny-llama-bf16").resolve("model.safetensors"),
                Fixtures.reference("tiny-llama-sharded").resolve("model-00001-of-00002.safetensors"),
                Fixtures.reference("tiny-llama-sharded").resolve("model-00002-of-00002.safetensors"),
                Fixtures.reference("safetensors-zoo").resolve("zoo.safetensors"),
                Fixtures.real("burn-mnist").resolve("mnist.safetensors"),
                Fixtures.real("burn-safetensors-multilayer").resolve("multi_layer.safetensors"),
                Fixtures.real("peft-lora-gpt2").resolve("adapter_model.safetensors"),
                Fixtures.real("diffusers-lora-bf16").resolve("pytorch_lora_weights.safetensors"),
                Fixtures.real("sharded-partial-llama32-3b")
                        .resolve("model-00001-model.layers.0.input_layernorm.weight.safetensors"));
    }

    @Test
    void reproducesTheReferenceWritersHeaders() throws Exception {
        for (Path file : referenceWritten()) {
            SafetensorsHeader h =
                    HeaderReader.read(new LocalInputFile(file), 1 << 24).header();
            List<HeaderWriter.Spec> specs = new ArrayList<>();
            for (TensorEntry t : h.tensors()) {
                specs.add(new HeaderWriter.Spec(t.name(), t.dtype(), t.shape()));
            }
            Collections.shuffle(specs, new java.util.Random(7));
            List<TensorEntry> layout = HeaderWriter.layout(specs);
            byte[] header = HeaderWriter.write(h.metadata().isEmpty() ? null : h.metadata(), layout);
            byte[] actual = Arrays.copyOf(Files.readAllBytes(file), header.length);
            assertEquals(
                    new String(actual, 8, actual.length - 8),
                    new String(header, 8, header.length - 8),
                    file.toString());
            assertArrayEquals(actual, header, file.toString());
        }
    }

    @Test
    void escapesNamesAsSerdeJsonDoes() {
        byte[] h = HeaderWriter.write(
                Map.of("k", "v\"\\"),
                List.of(new TensorEntry("a\u001fb\n\u00e9\u4e2d", DType.U8, new long[] {1}, 0, 1)));
        String json = new String(h, 8, h.length - 8, java.nio.charset.StandardCharsets.UTF_8).trim();
        assertEquals(
                "{\"__metadata__\":{\"k\":\"v\\\"\\\\\"},\"a\\u001fb\\n\u00e9\u4e2d\":{\"dtype\":\"U8\",\"shape\":[1],"
                        + "\"data_offsets\":[0,1]}}",
                json);
    }
}
