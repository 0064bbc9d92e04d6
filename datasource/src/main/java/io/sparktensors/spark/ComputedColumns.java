package io.sparktensors.spark;

import java.util.List;
import org.apache.spark.sql.connector.catalog.MetadataColumn;
import org.apache.spark.sql.connector.catalog.SupportsMetadataColumns;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Columns a tensor scan computes from the bytes it has just read, so a query that needs only a summary of
 * {@code data} never turns the bytes into Spark rows: {@code _stats} (what {@code tensor_stats(data, dtype)}
 * returns) and {@code _sha256} (what {@code sha2(data, 256)} returns), each of the row's tensor or chunk. They
 * are the tensor table's metadata columns: {@code SELECT name, _stats FROM t} asks for them by name, and the
 * session extension's optimizer rule asks for them in place of those two functions when their argument comes
 * straight from a tensor scan.
 */
public final class ComputedColumns {
    /** The statistics of the row's values, as {@code tensor_stats(data, dtype)}. */
    public static final String STATS = "_stats";
    /** The SHA-256 of the row's bytes as lower-case hex, as {@code sha2(data, 256)}. */
    public static final String SHA256 = "_sha256";

    /**
     * The SQL setting that turns the optimizer rule off ({@code false}): the functions then run on rows, as
     * without the rule. On by default.
     */
    public static final String ENABLED = "spark.sparktensors.inScan.enabled";

    /** The struct every stats function returns; mean and m2 let chunks merge exactly. */
    public static final StructType STATS_TYPE = new StructType()
            .add("count", DataTypes.LongType, false)
            .add("nans", DataTypes.LongType, false)
            .add("infs", DataTypes.LongType, false)
            .add("zeros", DataTypes.LongType, false)
            .add("min", DataTypes.DoubleType, false)
            .add("max", DataTypes.DoubleType, false)
            .add("mean", DataTypes.DoubleType, false)
            .add("std", DataTypes.DoubleType, false)
            .add("l2", DataTypes.DoubleType, false)
            .add("m2", DataTypes.DoubleType, false)
            .add("sum_squares", DataTypes.DoubleType, false);

    private static final List<StructField> FIELDS = List.of(
            new StructField(STATS, STATS_TYPE, true, org.apache.spark.sql.types.Metadata.empty()),
            new StructField(SHA256, DataTypes.StringType, true, org.apache.spark.sql.types.Metadata.empty()));

    private ComputedColumns() {}

    /** Whether {@code column} is one of the computed columns. */
    public static boolean isComputed(String column) {
        return STATS.equals(column) || SHA256.equals(column);
    }

    /** The computed column {@code name}, with its full type. */
    public static StructField field(String name) {
        return FIELDS.stream()
                .filter(f -> f.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("not a computed column: " + name));
    }

    /** The computed columns as the table's metadata columns. */
    public static MetadataColumn[] metadataColumns() {
        return FIELDS.stream().map(Column::new).toArray(MetadataColumn[]::new);
    }

    /** A tensor table, whose scans compute the computed columns: the optimizer rule rewrites only over these. */
    public interface ComputingTable extends SupportsMetadataColumns {}

    /**
     * A tensor scan that can be rebuilt to read other columns: the optimizer rule swaps a function for a
     * computed column after Spark has pruned the scan's columns (when the rule runs among the session's
     * extra optimizations, after column pruning). Lets {@code functions} rebuild a scan without depending on
     * {@code read}.
     */
    public interface ComputingScan extends Scan {
        /** The same scan (same files and filters) reading the columns of {@code schema}. */
        Scan withReadSchema(StructType schema);
    }

    private record Column(StructField field) implements MetadataColumn {
        @Override
        public String name() {
            return field.name();
        }

        @Override
        public DataType dataType() {
            return field.dataType();
        }

        @Override
        public boolean isNullable() {
            return true;
        }

        @Override
        public String comment() {
            return STATS.equals(field.name())
                    ? "tensor_stats(data, dtype), computed in the scan"
                    : "sha2(data, 256), computed in the scan";
        }
    }
}
