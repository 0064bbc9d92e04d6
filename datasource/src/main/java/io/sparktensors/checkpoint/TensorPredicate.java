package io.sparktensors.checkpoint;

import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A condition on what a tensor's header entry says (its name, dtype and the file holding its bytes), which
 * planning evaluates so that tensors that cannot match are never read. Engines convert their own filters
 * into these (Spark's in {@code spark/read}); anything they cannot convert they leave out, so a predicate
 * may only keep more tensors than the query wants, never fewer.
 */
public sealed interface TensorPredicate {

    /** The header fields a predicate can test. */
    enum Field {
        NAME,
        DTYPE,
        FILE;

        String of(String name, String dtype, String file) {
            return switch (this) {
                case NAME -> name;
                case DTYPE -> dtype;
                case FILE -> file;
            };
        }
    }

    /** Whether a tensor with these values may match. */
    boolean test(String name, String dtype, String file);

    /** Every tensor. */
    TensorPredicate ALWAYS = new All(List.of());

    /** The field equals the value. */
    record Equal(Field field, String value) implements TensorPredicate {
        public Equal {
            Objects.requireNonNull(field, "field");
            Objects.requireNonNull(value, "value");
        }

        @Override
        public boolean test(String name, String dtype, String file) {
            return value.equals(field.of(name, dtype, file));
        }
    }

    /** The field is one of the values. */
    record In(Field field, Set<String> values) implements TensorPredicate {
        public In {
            Objects.requireNonNull(field, "field");
            values = Set.copyOf(values);
        }

        @Override
        public boolean test(String name, String dtype, String file) {
            return values.contains(field.of(name, dtype, file));
        }
    }

    /** The field starts with the prefix. */
    record StartsWith(Field field, String prefix) implements TensorPredicate {
        public StartsWith {
            Objects.requireNonNull(field, "field");
            Objects.requireNonNull(prefix, "prefix");
        }

        @Override
        public boolean test(String name, String dtype, String file) {
            return field.of(name, dtype, file).startsWith(prefix);
        }
    }

    /** Every part holds (no part: always true). */
    record All(List<TensorPredicate> parts) implements TensorPredicate {
        public All {
            parts = List.copyOf(parts);
        }

        @Override
        public boolean test(String name, String dtype, String file) {
            for (TensorPredicate p : parts) {
                if (!p.test(name, dtype, file)) {
                    return false;
                }
            }
            return true;
        }
    }

    /** Some part holds. */
    record Any(List<TensorPredicate> parts) implements TensorPredicate {
        public Any {
            parts = List.copyOf(parts);
        }

        @Override
        public boolean test(String name, String dtype, String file) {
            for (TensorPredicate p : parts) {
                if (p.test(name, dtype, file)) {
                    return true;
                }
            }
            return false;
        }
    }

    /** The part does not hold. */
    record Not(TensorPredicate part) implements TensorPredicate {
        public Not {
            Objects.requireNonNull(part, "part");
        }

        @Override
        public boolean test(String name, String dtype, String file) {
            return !part.test(name, dtype, file);
        }
    }
}
