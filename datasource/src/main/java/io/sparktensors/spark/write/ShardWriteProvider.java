package io.sparktensors.spark.write;

import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.connector.catalog.SupportsWrite;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.connector.write.LogicalWriteInfo;
import org.apache.spark.sql.connector.write.Write;
import org.apache.spark.sql.connector.write.WriteBuilder;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * The DataSource V2 side of {@code df.write.format("safetensors")}, reached only from {@link CheckpointWriteJob}
 * (which handles the save modes V2 path-based writes lack) by class name, with the id of a planned write.
 */
public final class ShardWriteProvider implements TableProvider {

    @Override
    public StructType inferSchema(CaseInsensitiveStringMap options) {
        throw new UnsupportedOperationException("write-only");
    }

    @Override
    public boolean supportsExternalMetadata() {
        return true;
    }

    @Override
    public Table getTable(StructType schema, Transform[] partitioning, Map<String, String> properties) {
        String jobId = properties.get(CheckpointWriteJob.JOB_ID);
        CheckpointWriteJob.PendingWrite pending = jobId == null ? null : CheckpointWriteJob.PENDING.get(jobId);
        if (pending == null) {
            throw new IllegalStateException("No planned safetensors write " + jobId
                    + ": write with df.write.format(\"safetensors\"), not with this class.");
        }
        return new ShardWriteTable(schema, pending);
    }

    /** The staged checkpoint as a write-only table. */
    static final class ShardWriteTable implements SupportsWrite {
        private final StructType schema;
        private final CheckpointWriteJob.PendingWrite pending;

        ShardWriteTable(StructType schema, CheckpointWriteJob.PendingWrite pending) {
            this.schema = schema;
            this.pending = pending;
        }

        @Override
        public String name() {
            return "safetensors checkpoint " + pending.committer().target();
        }

        @Override
        public StructType schema() {
            return schema;
        }

        @Override
        public Set<TableCapability> capabilities() {
            return Set.of(TableCapability.BATCH_WRITE);
        }

        @Override
        public WriteBuilder newWriteBuilder(LogicalWriteInfo info) {
            return new WriteBuilder() {
                @Override
                public Write build() {
                    return new CheckpointWrite(pending);
                }
            };
        }
    }
}
