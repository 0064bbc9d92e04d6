package io.sparktensors.spark.read;

import io.sparktensors.checkpoint.TensorPredicate;
import io.sparktensors.spark.TensorColumns;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.sources.And;
import org.apache.spark.sql.sources.EqualNullSafe;
import org.apache.spark.sql.sources.EqualTo;
import org.apache.spark.sql.sources.Filter;
import org.apache.spark.sql.sources.In;
import org.apache.spark.sql.sources.IsNotNull;
import org.apache.spark.sql.sources.Not;
import org.apache.spark.sql.sources.Or;
import org.apache.spark.sql.sources.StringStartsWith;

/**
 * Filters on {@code name}, {@code dtype} and {@code file} that planning evaluates against each tensor's
 * header entry, so tensors that cannot match are never read. Converted into the planner's engine-free
 * {@link TensorPredicate}. All chunks of a tensor share these values,
 * so the answer per tensor is exact; Spark still re-applies every filter to the rows. Driver-only.
 */
final class TensorFilters {
    private final List<Filter> pushed;

    private TensorFilters(List<Filter> pushed) {
        this.pushed = List.copyOf(pushed);
    }

    static TensorFilters none() {
        return new TensorFilters(List.of());
    }

    /** Keeps the filters this source can evaluate on header entries. */
    static TensorFilters of(Filter[] filters) {
        List<Filter> usable = new ArrayList<>();
        for (Filter f : filters) {
            if (supported(f)) {
                usable.add(f);
            }
        }
        return new TensorFilters(usable);
    }

    Filter[] pushed() {
        return pushed.toArray(new Filter[0]);
    }

    /** The pushed filters as the planner's predicate. */
    TensorPredicate predicate() {
        List<TensorPredicate> parts = new ArrayList<>();
        for (Filter f : pushed) {
            parts.add(convert(f));
        }
        return parts.size() == 1 ? parts.get(0) : new TensorPredicate.All(parts);
    }

    private static boolean isColumn(String attribute) {
        return TensorColumns.NAME.equals(attribute)
                || TensorColumns.DTYPE.equals(attribute)
                || TensorColumns.FILE.equals(attribute);
    }

    private static boolean supported(Filter f) {
        if (f instanceof EqualTo e) {
            return isColumn(e.attribute()) && e.value() instanceof String;
        } else if (f instanceof EqualNullSafe e) {
            return isColumn(e.attribute()) && e.value() instanceof String;
        } else if (f instanceof In in) {
            if (!isColumn(in.attribute())) {
                return false;
            }
            for (Object v : in.values()) {
                if (v != null && !(v instanceof String)) {
                    return false;
                }
            }
            return true;
        } else if (f instanceof StringStartsWith s) {
            return isColumn(s.attribute());
        } else if (f instanceof IsNotNull n) {
            return isColumn(n.attribute());
        } else if (f instanceof And a) {
            return supported(a.left()) && supported(a.right());
        } else if (f instanceof Or o) {
            return supported(o.left()) && supported(o.right());
        } else if (f instanceof Not n) {
            return supported(n.child());
        }
        return false;
    }

    private static TensorPredicate convert(Filter f) {
        if (f instanceof EqualTo e) {
            return new TensorPredicate.Equal(field(e.attribute()), (String) e.value());
        } else if (f instanceof EqualNullSafe e) {
            return new TensorPredicate.Equal(field(e.attribute()), (String) e.value());
        } else if (f instanceof In in) {
            Set<String> values = new HashSet<>();
            for (Object v : in.values()) {
                if (v != null) {
                    values.add((String) v);
                }
            }
            return new TensorPredicate.In(field(in.attribute()), values);
        } else if (f instanceof StringStartsWith s) {
            return new TensorPredicate.StartsWith(field(s.attribute()), s.value());
        } else if (f instanceof IsNotNull) {
            return TensorPredicate.ALWAYS; // no column here is ever null
        } else if (f instanceof And a) {
            return new TensorPredicate.All(List.of(convert(a.left()), convert(a.right())));
        } else if (f instanceof Or o) {
            return new TensorPredicate.Any(List.of(convert(o.left()), convert(o.right())));
        } else if (f instanceof Not n) {
            return new TensorPredicate.Not(convert(n.child()));
        }
        throw new IllegalStateException("unsupported filter " + f);
    }

    private static TensorPredicate.Field field(String attribute) {
        return switch (attribute) {
            case TensorColumns.NAME -> TensorPredicate.Field.NAME;
            case TensorColumns.DTYPE -> TensorPredicate.Field.DTYPE;
            default -> TensorPredicate.Field.FILE;
        };
    }
}
