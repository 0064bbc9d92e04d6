package io.sparktensors.spark.read;

import io.sparktensors.format.safetensors.TensorEntry;
import java.util.List;
import org.apache.spark.sql.connector.read.InputPartition;

/**
 * Rows of training data one task reads. {@code layout=dataset}: rows [rowStart, rowEnd) of one file, each
 * column a slice of its tensor; {@code kv}: whole rows, each a key and its column tensors, wherever they are.
 *
 * @param cells for dataset, one entry per output column (null for partition columns) and its lengths entries
 *     (or null); for kv, per row the entries of its columns
 * @param partitionValues the values of the partition columns (dataset) or each row's key (kv)
 */
record DatasetInputPartition(
        List<String> files,
        List<Long> dataStarts,
        long rowStart,
        long rowEnd,
        List<Cell[]> cells,
        Object[] partitionValues)
        implements InputPartition {

    /**
     * Where one column's tensor is: file (index into files), entry, and for a padded column its lengths
     * tensors along dimensions 1, 2, ... (checked against the entry's shape when planned), else null.
     */
    record Cell(int file, TensorEntry entry, List<TensorEntry> lengths) implements java.io.Serializable {}
}
