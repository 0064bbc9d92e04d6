package io.sparktensors.spark.read;

import io.sparktensors.errors.MalformedTensorFileException;
import io.sparktensors.format.DType;
import io.sparktensors.format.safetensors.TensorEntry;
import io.sparktensors.spark.DatasetLayout;
import io.sparktensors.spark.SerializableConfiguration;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.catalyst.catalog.ExternalCatalogUtils;
import org.apache.spark.sql.connector.read.Batch;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.connector.read.SupportsPushDownRequiredColumns;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * A scan of training data ({@code layout=dataset} or {@code kv}) as the rows that were written: builder
 * (column pruning), scan and batch in one, as each role is a few lines. Planning reads every file's header on
 * the driver and splits each file's rows into row ranges of about {@code maxPartitionBytes}, so a big file is
 * read by several tasks; kv rows are grouped by key across the shards.
 */
public final class DatasetScan implements ScanBuilder, SupportsPushDownRequiredColumns, Scan, Batch {
    private final String layout;
    private final List<DatasetFiles.Listed> files;
    private final StructType fullSchema;
    private final TensorReadConf conf;
    private final Configuration hadoopConf;
    private StructType required;

    public DatasetScan(
            String layout,
            List<DatasetFiles.Listed> files,
            StructType fullSchema,
            TensorReadConf conf,
            Configuration hadoopConf) {
        this.layout = layout;
        this.files = files;
        this.fullSchema = fullSchema;
        this.required = fullSchema;
        this.conf = conf;
        this.hadoopConf = hadoopConf;
    }

    @Override
    public void pruneColumns(StructType requiredSchema) {
        this.required = requiredSchema;
    }

    @Override
    public Scan build() {
        return this;
    }

    @Override
    public StructType readSchema() {
        return required;
    }

    @Override
    public Batch toBatch() {
        return this;
    }

    @Override
    public String description() {
        return "safetensors " + layout + " (" + files.size() + " files)";
    }

    @Override
    public PartitionReaderFactory createReaderFactory() {
        return new DatasetPartitionReader.Factory(required, new SerializableConfiguration(hadoopConf));
    }

    @Override
    public InputPartition[] planInputPartitions() {
        return DatasetLayout.KV.equals(layout) ? planKv() : planDataset();
    }

    private InputPartition[] planDataset() {
        List<InputPartition> out = new ArrayList<>();
        for (DatasetFiles.Listed f : files) {
            Map<String, TensorEntry> byName = new HashMap<>();
            f.header().tensors().forEach(t -> byName.put(t.name(), t));
            long rows = Long.parseLong(f.header().metadata().getOrDefault(DatasetLayout.ROWS, "0"));
            StructType partitionSchema = DatasetFiles.partitionSchema(f);
            Map<String, String> folderValues = folderValues(f.relative());
            DatasetInputPartition.Cell[] cells = new DatasetInputPartition.Cell[required.fields().length];
            Object[] values = new Object[cells.length];
            long rowBytes = 0;
            for (int i = 0; i < cells.length; i++) {
                StructField field = required.fields()[i];
                if (partitionSchema.getFieldIndex(field.name()).isDefined()) {
                    values[i] = parseValue(folderValues.get(field.name()), field.dataType());
                    continue;
                }
                TensorEntry e = byName.get(field.name());
                if (e == null) {
                    throw new IllegalArgumentException(
                            "Cannot read the dataset: file " + f.status().getPath() + " has no tensor for column '"
                                    + field.name() + "'. Read files written together, with one schema");
                }
                List<TensorEntry> lengths = lengths(f, byName, e, rows);
                cells[i] = new DatasetInputPartition.Cell(0, e, lengths);
                if (rows > 0) {
                    rowBytes += e.byteLength() / rows;
                    for (TensorEntry l : lengths == null ? List.<TensorEntry>of() : lengths) {
                        rowBytes += l.byteLength() / rows;
                    }
                }
            }
            long perSplit = Math.max(1, conf.maxPartitionBytes() / Math.max(1, rowBytes));
            List<String> paths = List.of(f.status().getPath().toString());
            List<Long> starts = List.of(f.header().dataStart());
            for (long start = 0; start < rows; start += perSplit) {
                out.add(new DatasetInputPartition(
                        paths,
                        starts,
                        start,
                        Math.min(rows, start + perSplit),
                        List.<DatasetInputPartition.Cell[]>of(cells),
                        values));
            }
        }
        return out.toArray(new InputPartition[0]);
    }

    /**
     * A column tensor's lengths tensors when it was padded ({@code COLUMN.lengths}, {@code .lengths.2}, ...:
     * one per dimension after the rows, each I64 of the shape [rows, M1, .., Mk-1]), or null; a tensor whose
     * rows are not the file's, or lengths tensors of the wrong shape, make the file malformed.
     */
    private static List<TensorEntry> lengths(
            DatasetFiles.Listed f, Map<String, TensorEntry> byName, TensorEntry e, long rows) {
        long[] shape = e.shape();
        if (shape.length == 0 || shape[0] != rows) {
            throw malformed(
                    f,
                    e.name(),
                    "shape " + Arrays.toString(shape) + " does not start with the file's " + rows + " rows ("
                            + DatasetLayout.ROWS + ")");
        }
        if (!byName.containsKey(DatasetLayout.lengths(e.name(), 1))) {
            return null;
        }
        List<TensorEntry> out = new ArrayList<>();
        for (int k = 1; k < shape.length; k++) {
            String name = DatasetLayout.lengths(e.name(), k);
            TensorEntry l = byName.get(name);
            long[] expected = Arrays.copyOf(shape, k);
            if (l == null || l.dtype() != DType.I64 || !Arrays.equals(expected, l.shape())) {
                throw malformed(
                        f,
                        name,
                        "a padded column of shape " + Arrays.toString(shape) + " needs it, as I64 of shape "
                                + Arrays.toString(expected) + "; found "
                                + (l == null ? "none" : l.dtype() + " " + Arrays.toString(l.shape())));
            }
            out.add(l);
        }
        return out;
    }

    private static UncheckedIOException malformed(DatasetFiles.Listed f, String tensor, String fault) {
        return new UncheckedIOException(
                new MalformedTensorFileException(f.status().getPath().toString(), tensor, fault));
    }

    private InputPartition[] planKv() {
        String keyColumn =
                files.isEmpty() ? null : files.get(0).header().metadata().get(DatasetLayout.KEY_COLUMN);
        List<String> paths = new ArrayList<>();
        List<Long> starts = new ArrayList<>();
        Map<String, Map<String, DatasetInputPartition.Cell>> byKey = new LinkedHashMap<>();
        StructType valueColumns = new StructType(Arrays.stream(fullSchema.fields())
                .filter(f -> !f.name().equals(keyColumn))
                .toArray(StructField[]::new));
        boolean single = valueColumns.fields().length == 1;
        for (DatasetFiles.Listed f : files) {
            int index = paths.size();
            paths.add(f.status().getPath().toString());
            starts.add(f.header().dataStart());
            for (TensorEntry t : f.header().tensors()) {
                String key;
                String column;
                if (single) {
                    key = t.name();
                    column = valueColumns.fields()[0].name();
                } else {
                    int slash = t.name().lastIndexOf('/');
                    key = t.name().substring(0, Math.max(0, slash));
                    column = t.name().substring(slash + 1);
                }
                byKey.computeIfAbsent(key, k -> new HashMap<>())
                        .put(column, new DatasetInputPartition.Cell(index, t, null));
            }
        }
        List<InputPartition> out = new ArrayList<>();
        List<DatasetInputPartition.Cell[]> rows = new ArrayList<>();
        List<Object> keys = new ArrayList<>();
        long bytes = 0;
        int keyIndex = required.getFieldIndex(keyColumn).isDefined() ? required.fieldIndex(keyColumn) : -1;
        DataType keyType = fullSchema.apply(keyColumn).dataType();
        for (Map.Entry<String, Map<String, DatasetInputPartition.Cell>> e : byKey.entrySet()) {
            DatasetInputPartition.Cell[] cells = new DatasetInputPartition.Cell[required.fields().length];
            for (int i = 0; i < cells.length; i++) {
                if (i != keyIndex) {
                    cells[i] = e.getValue().get(required.fields()[i].name());
                    bytes += cells[i] == null ? 0 : cells[i].entry().byteLength();
                }
            }
            rows.add(cells);
            keys.add(keyIndex < 0 ? null : parseValue(e.getKey(), keyType));
            if (bytes >= conf.maxPartitionBytes()) {
                out.add(kvPartition(paths, starts, rows, keys, keyIndex));
                rows = new ArrayList<>();
                keys = new ArrayList<>();
                bytes = 0;
            }
        }
        if (!rows.isEmpty()) {
            out.add(kvPartition(paths, starts, rows, keys, keyIndex));
        }
        return out.toArray(new InputPartition[0]);
    }

    private static DatasetInputPartition kvPartition(
            List<String> paths,
            List<Long> starts,
            List<DatasetInputPartition.Cell[]> rows,
            List<Object> keys,
            int keyIndex) {
        Object[] values = keys.toArray();
        return new DatasetInputPartition(List.copyOf(paths), List.copyOf(starts), keyIndex, -1, rows, values);
    }

    /** The {@code k=v} folders of a file's path relative to the root, unescaped as Spark escapes them. */
    private static Map<String, String> folderValues(String relative) {
        Map<String, String> values = new HashMap<>();
        String[] parts = relative.split("/");
        for (int i = 0; i < parts.length - 1; i++) {
            int eq = parts[i].indexOf('=');
            if (eq > 0) {
                values.put(
                        ExternalCatalogUtils.unescapePathName(parts[i].substring(0, eq)),
                        ExternalCatalogUtils.unescapePathName(parts[i].substring(eq + 1)));
            }
        }
        return values;
    }

    /** A partition folder's or key's text as a value of its column's type (Catalyst's internal form). */
    static Object parseValue(String text, DataType type) {
        if (text == null || text.equals(ExternalCatalogUtils.DEFAULT_PARTITION_NAME())) {
            return null;
        }
        if (type instanceof StringType) {
            return UTF8String.fromString(text);
        } else if (type instanceof IntegerType) {
            return Integer.parseInt(text);
        } else if (type instanceof LongType) {
            return Long.parseLong(text);
        } else if (type instanceof ShortType) {
            return Short.parseShort(text);
        } else if (type instanceof ByteType) {
            return Byte.parseByte(text);
        } else if (type instanceof BooleanType) {
            return Boolean.parseBoolean(text);
        } else if (type instanceof DoubleType) {
            return Double.parseDouble(text);
        } else if (type instanceof FloatType) {
            return Float.parseFloat(text);
        }
        throw new IllegalArgumentException("Cannot read the partition value '" + text + "' as " + type.simpleString()
                + ": only strings, numbers and booleans are supported as partition columns of a dataset");
    }
}
