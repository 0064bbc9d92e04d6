package io.sparktensors.spark.write;

import io.sparktensors.checkpoint.ByteSizes;
import io.sparktensors.errors.DatasetErrors;
import io.sparktensors.errors.TensorErrors;
import io.sparktensors.format.DType;
import io.sparktensors.spark.DatasetColumn;
import io.sparktensors.spark.DatasetLayout;
import java.io.Serializable;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The options of {@code layout=dataset} (and the column options kv shares), parsed and checked once on the
 * driver against the input's schema.
 *
 * @param columns the data columns (partition columns excluded), in schema order
 * @param rowsPerFile most rows per file, or 0 for no limit
 * @param maxFileSize tensor bytes after which a file is closed
 * @param pad whether array and vector columns are padded (ragged=pad)
 * @param metadata every file's {@code __metadata__} before the row count is added
 */
public record DatasetWriteConf(
        DatasetColumn[] columns, long rowsPerFile, long maxFileSize, boolean pad, SortedMap<String, String> metadata)
        implements Serializable {

    public static DatasetWriteConf parse(
            Map<String, String> options,
            StructType data,
            List<String> partitionColumns,
            SortedMap<String, String> userMetadata) {
        Map<String, String> lower = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        lower.putAll(options);
        long rowsPerFile = parseLong(lower, TensorWriteOptions.ROWS_PER_FILE, 0);
        long maxFileSize = ByteSizes.parse(lower.getOrDefault(TensorWriteOptions.MAX_FILE_SIZE, "256MB"));
        String ragged =
                lower.getOrDefault(TensorWriteOptions.RAGGED, "error").trim().toLowerCase(Locale.ROOT);
        if (!ragged.equals("error") && !ragged.equals("pad")) {
            throw TensorErrors.badOption(TensorWriteOptions.RAGGED, ragged, "error or pad");
        }
        Map<String, DType> dtypes = columnOptions(options, TensorWriteOptions.DTYPE_PREFIX, data, v -> {
            DType d = DType.fromCode(v.trim().toUpperCase(Locale.ROOT));
            if (d == null) {
                throw TensorErrors.badOption(
                        TensorWriteOptions.DTYPE_PREFIX + "*", v, "a safetensors dtype such as BF16");
            }
            return d;
        });
        Map<String, long[]> shapes =
                columnOptions(options, TensorWriteOptions.SHAPE_PREFIX, data, DatasetWriteConf::shape);
        StructType dataOnly = new StructType(Arrays.stream(data.fields())
                .filter(f -> !partitionColumns.contains(f.name()))
                .toArray(StructField[]::new));
        DatasetColumn[] columns = new DatasetColumn[dataOnly.fields().length];
        for (int i = 0; i < columns.length; i++) {
            StructField f = dataOnly.fields()[i];
            columns[i] = DatasetColumn.of(f, dtypes.get(f.name()), shapes.get(f.name()));
        }
        SortedMap<String, String> metadata = new TreeMap<>(userMetadata);
        metadata.put(DatasetLayout.LAYOUT, DatasetLayout.DATASET);
        metadata.put(DatasetLayout.SCHEMA, dataOnly.json());
        if (!partitionColumns.isEmpty()) {
            StructType partitions =
                    new StructType(partitionColumns.stream().map(data::apply).toArray(StructField[]::new));
            metadata.put(DatasetLayout.PARTITION_SCHEMA, partitions.json());
        }
        return new DatasetWriteConf(columns, rowsPerFile, maxFileSize, ragged.equals("pad"), metadata);
    }

    /** {@code PREFIX.COL} options, checked to name a column. */
    static <T> Map<String, T> columnOptions(
            Map<String, String> options, String prefix, StructType data, java.util.function.Function<String, T> parse) {
        Map<String, T> out = new HashMap<>();
        for (Map.Entry<String, String> e : options.entrySet()) {
            if (e.getKey().toLowerCase(Locale.ROOT).startsWith(prefix)) {
                String column = e.getKey().substring(prefix.length());
                if (data.getFieldIndex(column).isEmpty()) {
                    throw DatasetErrors.unknownColumn(e.getKey(), column, List.of(data.fieldNames()));
                }
                out.put(column, parse.apply(e.getValue()));
            }
        }
        return out;
    }

    private static long[] shape(String text) {
        String t =
                text.trim().replace("[", "").replace("]", "").replace("(", "").replace(")", "");
        try {
            long[] shape = t.isEmpty()
                    ? new long[0]
                    : Arrays.stream(t.split(","))
                            .map(String::trim)
                            .filter(s -> !s.isEmpty())
                            .mapToLong(Long::parseLong)
                            .toArray();
            if (Arrays.stream(shape).anyMatch(d -> d < 0)) {
                throw new NumberFormatException("negative");
            }
            return shape;
        } catch (NumberFormatException e) {
            throw TensorErrors.badOption(TensorWriteOptions.SHAPE_PREFIX + "*", text, "dimensions such as 3,32,32", e);
        }
    }

    private static long parseLong(Map<String, String> options, String key, long dflt) {
        String v = options.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            long n = Long.parseLong(v.trim());
            if (n <= 0) {
                throw new NumberFormatException("not positive");
            }
            return n;
        } catch (NumberFormatException e) {
            throw TensorErrors.badOption(key, v, "a positive whole number", e);
        }
    }
}
