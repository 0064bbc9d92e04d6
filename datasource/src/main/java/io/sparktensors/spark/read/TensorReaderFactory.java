package io.sparktensors.spark.read;

import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.vectorized.ColumnarBatch;

/** Creates columnar readers on executors. */
final class TensorReaderFactory implements PartitionReaderFactory {
    private final TensorReadContext context;

    TensorReaderFactory(TensorReadContext context) {
        this.context = context;
    }

    @Override
    public boolean supportColumnarReads(InputPartition partition) {
        return true;
    }

    @Override
    public PartitionReader<ColumnarBatch> createColumnarReader(InputPartition partition) {
        return new TensorPartitionReader(((TensorInputPartition) partition).split(), context);
    }

    @Override
    public PartitionReader<InternalRow> createReader(InputPartition partition) {
        throw new UnsupportedOperationException("The tensor source reads columnar batches only");
    }
}
