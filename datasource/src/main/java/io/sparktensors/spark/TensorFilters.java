package io.sparktensors.spark;

import java.util.ArrayList;
import java.util.List;
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
 * header entry, so tensors that cannot match are never read. All chunks of a tensor share these values,
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

  /** Whether a tensor with these values may match every pushed filter. */
  boolean mayMatch(String name, String dtype, String file) {
    for (Filter f : pushed) {
      if (!eval(f, name, dtype, file)) {
        return false;
      }
    }
    return true;
  }

  private static boolean isColumn(String attribute) {
    return TensorColumns.NAME.equals(attribute) || TensorColumns.DTYPE.equals(attribute)
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

  private static boolean eval(Filter f, String name, String dtype, String file) {
    if (f instanceof EqualTo e) {
      return e.value().equals(value(e.attribute(), name, dtype, file));
    } else if (f instanceof EqualNullSafe e) {
      return e.value().equals(value(e.attribute(), name, dtype, file));
    } else if (f instanceof In in) {
      String v = value(in.attribute(), name, dtype, file);
      for (Object candidate : in.values()) {
        if (v.equals(candidate)) {
          return true;
        }
      }
      return false;
    } else if (f instanceof StringStartsWith s) {
      return value(s.attribute(), name, dtype, file).startsWith(s.value());
    } else if (f instanceof IsNotNull) {
      return true; // no column here is ever null
    } else if (f instanceof And a) {
      return eval(a.left(), name, dtype, file) && eval(a.right(), name, dtype, file);
    } else if (f instanceof Or o) {
      return eval(o.left(), name, dtype, file) || eval(o.right(), name, dtype, file);
    } else if (f instanceof Not n) {
      return !eval(n.child(), name, dtype, file);
    }
    throw new IllegalStateException("unsupported filter " + f);
  }

  private static String value(String attribute, String name, String dtype, String file) {
    return switch (attribute) {
      case TensorColumns.NAME -> name;
      case TensorColumns.DTYPE -> dtype;
      default -> file;
    };
  }
}
