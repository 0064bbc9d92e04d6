package io.sparktensors.spark.functions;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.sha2;

import io.sparktensors.spark.TensorColumns;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * SHA-256 of each tensor's whole raw bytes, computed by the executors from any tensor source's rows. A
 * tensor held in one row is hashed where it is read; only the chunks of chunked tensors move, ordered, to
 * one task that streams them through one digest, so memory stays bounded by the chunk size.
 */
public class TensorHashes {
    /** The result's columns: {@code name}, {@code sha256} (lower-case hex). */
    public static final StructType SCHEMA = new StructType()
            .add(TensorColumns.NAME, DataTypes.StringType, false)
            .add("sha256", DataTypes.StringType, false);

    /** Static methods only; subclassed by the deprecated alias in the former package. */
    protected TensorHashes() {}

    public static Dataset<Row> sha256(Dataset<Row> tensors) {
        Dataset<Row> whole = tensors.where(col(TensorColumns.CHUNK_COUNT).equalTo(1))
                .select(
                        col(TensorColumns.NAME),
                        sha2(col(TensorColumns.DATA), 256).as("sha256"));
        Dataset<Row> chunked = tensors.where(col(TensorColumns.CHUNK_COUNT).gt(1))
                .select(TensorColumns.NAME, TensorColumns.CHUNK, TensorColumns.DATA)
                .repartition(col(TensorColumns.NAME))
                .sortWithinPartitions(TensorColumns.NAME, TensorColumns.CHUNK)
                .mapPartitions((MapPartitionsFunction<Row, Row>) TensorHashes::digestRuns, Encoders.row(SCHEMA));
        return whole.unionByName(chunked);
    }

    /** Rows sorted by name then chunk: one digest per run of equal names. */
    private static Iterator<Row> digestRuns(Iterator<Row> rows) throws NoSuchAlgorithmException {
        List<Row> out = new ArrayList<>();
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        String current = null;
        int expectedChunk = 0;
        while (rows.hasNext()) {
            Row r = rows.next();
            String name = r.getString(0);
            if (!name.equals(current)) {
                if (current != null) {
                    out.add(RowFactory.create(current, HexFormat.of().formatHex(md.digest())));
                }
                current = name;
                expectedChunk = 0;
            }
            if (r.getInt(1) != expectedChunk) {
                throw new IllegalStateException(
                        "Tensor '" + name + "' has chunk " + r.getInt(1) + " where chunk " + expectedChunk
                                + " was expected: the same name appears in several files, or a chunk is missing.");
            }
            expectedChunk++;
            md.update((byte[]) r.get(2));
        }
        if (current != null) {
            out.add(RowFactory.create(current, HexFormat.of().formatHex(md.digest())));
        }
        return out.iterator();
    }
}
