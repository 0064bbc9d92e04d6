/**
 * GGUF v2/v3 files (llama.cpp): metadata, tensor infos, Q8_0/Q4_0 blocks dequantized on request.
 *
 * <p>May import: {@code format}, {@code io}, {@code errors}.
 */
package io.sparktensors.format.gguf;
