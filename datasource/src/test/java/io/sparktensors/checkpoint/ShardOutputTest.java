package io.sparktensors.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.DType;
import io.sparktensors.format.FloatConversion;
import io.sparktensors.format.safetensors.HeaderWriter.Spec;
import io.sparktensors.io.OutputFiles;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Off-heap appends: straight to a channel output, or through the heap to a stream or a dtype conversion. */
class ShardOutputTest {
    @TempDir
    Path dir;

    private static final ShardPlan PLAN = ShardPlanner.plan(
            List.of(new Spec("a", DType.F32, new long[] {3, 1000}), new Spec("b", DType.BF16, new long[] {777})),
            1L << 30,
            "model",
            Map.of("format", "pt"));

    private static ByteBuffer direct(byte[] bytes) {
        return ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
    }

    /** Writes tensor a from off-heap pieces and tensor b (F32 source converted to BF16) to {@code out}. */
    private static void write(OutputStream out, byte[] a, byte[] bF32) throws Exception {
        ShardPlan.Shard shard = PLAN.shards().get(0);
        ShardOutput output = new ShardOutput("test", shard, Map.of("b", DType.F32), out);
        for (String name : shard.tensors().stream().map(t -> t.name()).toList()) {
            output.begin(name);
            byte[] bytes = name.equals("a") ? a : bF32;
            // Uneven pieces, one of them splitting an element in two.
            output.append(direct(java.util.Arrays.copyOfRange(bytes, 0, 1001)));
            output.append(ByteBuffer.wrap(bytes, 1001, 2000).slice());
            output.append(direct(java.util.Arrays.copyOfRange(bytes, 3001, bytes.length)));
        }
        output.finish();
        out.close();
    }

    @Test
    void offHeapAppendsWriteWhatHeapAppendsWrite() throws Exception {
        Random random = new Random(5);
        byte[] a = new byte[12_000];
        random.nextBytes(a);
        ByteBuffer bF32 = ByteBuffer.allocate(777 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 777; i++) {
            bF32.putFloat(random.nextFloat() * 100 - 50);
        }
        ByteBuffer bf16 = ByteBuffer.allocate(777 * 2).order(ByteOrder.LITTLE_ENDIAN);
        FloatConversion.convert(DType.F32, DType.BF16, ByteBuffer.wrap(bF32.array()), bf16);

        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.write(PLAN.shards().get(0).header());
        for (var t : PLAN.shards().get(0).tensors()) {
            expected.write(t.name().equals("a") ? a : bf16.array());
        }

        Path file = dir.resolve("model.safetensors");
        OutputStream channel = OutputFiles.create(new org.apache.hadoop.fs.Path(file.toUri()), new Configuration());
        assertTrue(channel instanceof java.nio.channels.WritableByteChannel, "a local file is a channel");
        write(channel, a, bF32.array());
        assertArrayEquals(expected.toByteArray(), Files.readAllBytes(file));

        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        write(stream, a, bF32.array());
        assertArrayEquals(expected.toByteArray(), stream.toByteArray());
    }

    @Test
    void anOffHeapAppendPastTheTensorNamesIt() throws Exception {
        Path file = dir.resolve("long.safetensors");
        try (OutputStream out = OutputFiles.create(new org.apache.hadoop.fs.Path(file.toUri()), new Configuration())) {
            ShardPlan.Shard shard = PLAN.shards().get(0);
            ShardOutput output = new ShardOutput(file.toString(), shard, Map.of(), out);
            output.begin(shard.tensors().get(0).name());
            String name = shard.tensors().get(0).name();
            MalformedTensorFileException e = assertThrows(
                    MalformedTensorFileException.class,
                    () -> output.append(
                            direct(new byte[(int) shard.tensors().get(0).byteLength() + 1])));
            assertTrue(e.getMessage().contains(name) && e.getMessage().contains("needs"), e.getMessage());
        }
    }
}
