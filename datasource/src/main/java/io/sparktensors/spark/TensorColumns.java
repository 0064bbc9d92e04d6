package io.sparktensors.spark;

import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** The columns every tensor source produces, one row per tensor or per chunk of a large tensor. */
public final class TensorColumns {
    public static final String NAME = "name";
    public static final String DTYPE = "dtype";
    public static final String SHAPE = "shape";
    public static final String CHUNK = "chunk";
    public static final String CHUNK_COUNT = "chunk_count";
    public static final String CHUNK_START = "chunk_start";
    public static final String DATA = "data";
    public static final String FILE = "file";
    public static final String DATA_OFFSET = "data_offset";
    public static final String FILE_METADATA = "file_metadata";

    /** The full schema, in column order. */
    public static final StructType SCHEMA = new StructType(new StructField[] {
        field(NAME, DataTypes.StringType),
        field(DTYPE, DataTypes.StringType),
        field(SHAPE, DataTypes.createArrayType(DataTypes.LongType, false)),
        field(CHUNK, DataTypes.IntegerType),
        field(CHUNK_COUNT, DataTypes.IntegerType),
        field(CHUNK_START, DataTypes.LongType),
        field(DATA, DataTypes.BinaryType),
        field(FILE, DataTypes.StringType),
        field(DATA_OFFSET, DataTypes.LongType),
        field(FILE_METADATA, DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType, false)),
    });

    private TensorColumns() {}

    private static StructField field(String name, org.apache.spark.sql.types.DataType type) {
        return new StructField(name, type, false, Metadata.empty());
    }
}
