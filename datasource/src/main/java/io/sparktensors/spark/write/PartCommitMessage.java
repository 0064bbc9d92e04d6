package io.sparktensors.spark.write;

import java.io.Serializable;
import java.util.List;
import org.apache.spark.sql.connector.write.WriterCommitMessage;

/**
 * What one committed task of a checkpoint write staged: a part file holding the data of the rows it was
 * given, back to back, and where each row's bytes are in it.
 *
 * @param part the staged part file (null when the task had no rows)
 */
record PartCommitMessage(String part, long partLength, List<ChunkRecord> chunks) implements WriterCommitMessage {

    PartCommitMessage {
        chunks = List.copyOf(chunks);
    }

    /** One input row: a tensor, or one chunk of it, and where its bytes went. Null fields are reported later. */
    record ChunkRecord(String name, String dtype, long[] shape, int chunk, int chunkCount, long offset, long length)
            implements Serializable {}
}
