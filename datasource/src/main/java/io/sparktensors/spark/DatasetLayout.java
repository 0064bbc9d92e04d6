package io.sparktensors.spark;

/**
 * The {@code __metadata__} keys with which training-data files describe themselves, shared by the writer and
 * the reader: the layout, the Spark schema of the columns (StructType JSON), the rows in the file and the
 * partition columns' schema when the data was written with {@code partitionBy}.
 */
public final class DatasetLayout {
    public static final String LAYOUT = "spark.layout";
    public static final String SCHEMA = "spark.schema";
    public static final String ROWS = "spark.rows";
    public static final String PARTITION_SCHEMA = "spark.partitionSchema";
    /** layout=kv: the key column's name. */
    public static final String KEY_COLUMN = "spark.keyColumn";

    public static final String CHECKPOINT = "checkpoint";
    public static final String DATASET = "dataset";
    public static final String KV = "kv";
    /** The tensor of a padded column's row lengths: {@code COLUMN.lengths}. */
    public static final String LENGTHS_SUFFIX = ".lengths";

    private DatasetLayout() {}

    /**
     * The tensor of a padded column's lengths along dimension {@code k} of its tensor (1 for the rows' own
     * lengths, 2 for their elements' lengths, ...): {@code COLUMN.lengths}, {@code COLUMN.lengths.2}, ...
     */
    public static String lengths(String column, int k) {
        return k == 1 ? column + LENGTHS_SUFFIX : column + LENGTHS_SUFFIX + "." + k;
    }
}
