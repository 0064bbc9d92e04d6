package io.sparktensors.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sparktensors.format.proto.ProtoWalk;

/**
 * Fuzzes the protobuf wire reader on its own: arbitrary bytes are walked as a message tree (nested
 * messages, bytes, packed varints, fixed values, skips) through the streaming and the in-memory byte
 * source. Each walk either reads to the end or stops at a MalformedTensorFileException (any other
 * exception escapes and is a finding), and the two must agree on every value and on the fault.
 */
class ProtoWireFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void wire(byte[] input) {
        ProtoWalk.Outcome inMemory = ProtoWalk.inMemory(input, FuzzContract.LIMITS.maxNesting());
        assertEquals(inMemory, ProtoWalk.streaming(input, FuzzContract.LIMITS.maxNesting()));
    }
}
