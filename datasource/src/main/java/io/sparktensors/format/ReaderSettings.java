package io.sparktensors.format;

import java.io.Serializable;
import java.util.Locale;
import java.util.Objects;

/**
 * The choices of how format readers read, beyond the {@link ReadLimits}: parsed once from the read options
 * and given to {@code CheckpointFormat.reader(...)}.
 *
 * @param dequantize whether GGUF Q8_0 and Q4_0 tensors are decoded to F32 (else they are refused)
 * @param pickle how PyTorch pickles treat globals outside the torch allowlist
 */
public record ReaderSettings(boolean dequantize, PickleMode pickle) implements Serializable {
    /** No dequantizing; symbolic pickles. */
    public static final ReaderSettings DEFAULTS = new ReaderSettings(false, PickleMode.SYMBOLIC);

    public ReaderSettings {
        Objects.requireNonNull(pickle, "pickle");
    }

    /** How a PyTorch pickle's globals outside the allowlist of torch tensor globals are treated. */
    public enum PickleMode {
        /** Refused: only state_dicts of tensors (and plain Python values) are read. */
        STRICT,
        /**
         * Read as inert names, never imported or called: whole pickled modules list their state_dict, numpy
         * arrays are tensors, other objects are skipped.
         */
        SYMBOLIC;

        /** The mode named {@code name} (case-insensitive), or null when there is none. */
        public static PickleMode byName(String name) {
            for (PickleMode m : values()) {
                if (m.name().equals(name.trim().toUpperCase(Locale.ROOT))) {
                    return m;
                }
            }
            return null;
        }
    }
}
