package io.sparktensors.spark.write;

import io.sparktensors.checkpoint.AssemblyPlan;
import io.sparktensors.checkpoint.FileSlice;
import io.sparktensors.checkpoint.ReadSplit;
import io.sparktensors.checkpoint.TensorChunk;
import io.sparktensors.errors.WriteErrors;
import io.sparktensors.spark.PlannedTensorScan;
import io.sparktensors.spark.compat.ScalaCollections;
import io.sparktensors.spark.compat.SparkInternals;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Project;
import org.apache.spark.sql.execution.datasources.v2.DataSourceV2ScanRelation;

/**
 * The writer's fast path. When the DataFrame to write is a plain scan of a tensor source (columns selected
 * at most: no filter, no rename, no computed column), every tensor it would deliver is a planned run of a
 * source file: the shards are then assembled from those runs directly, as the re-shard job does, with no
 * staging pass and no Spark rows. Anything else takes the general path.
 */
final class DirectScanWrite {
    private DirectScanWrite() {}

    /** The tensor scan the DataFrame is, or null when it is anything more. */
    static PlannedTensorScan scanOf(Dataset<Row> data) {
        LogicalPlan plan = SparkInternals.queryExecution(data).optimizedPlan();
        while (plan instanceof Project project && onlyAttributes(project)) {
            plan = project.child();
        }
        if (plan instanceof DataSourceV2ScanRelation relation
                && relation.scan() instanceof PlannedTensorScan scan
                && scan.deliversWholeTensors()) {
            return scan;
        }
        return null;
    }

    private static boolean onlyAttributes(Project project) {
        for (NamedExpression e : ScalaCollections.asJava(project.projectList())) {
            if (!(e instanceof Attribute)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Plans the shards of the scanned tensors from their runs, chunk by chunk in order (a decoded tensor: the
     * whole tensor through its decoder).
     *
     * @throws IllegalArgumentException when two files hold a tensor of the same name
     */
    static AssemblyPlan plan(PlannedTensorScan scan, TensorWriteConf conf) {
        Map<String, List<TensorChunk>> chunks = new TreeMap<>();
        Map<TensorChunk, FileSlice> fileOf = new HashMap<>();
        for (ReadSplit split : scan.plan().splits()) {
            for (FileSlice slice : split.slices()) {
                for (TensorChunk c : slice.chunks()) {
                    chunks.computeIfAbsent(c.name(), k -> new ArrayList<>()).add(c);
                    fileOf.put(c, slice);
                }
            }
        }
        AssemblyPlan.Builder plan = AssemblyPlan.builder();
        for (Map.Entry<String, List<TensorChunk>> e : chunks.entrySet()) {
            List<TensorChunk> parts = e.getValue();
            parts.sort(Comparator.comparingInt(TensorChunk::chunk));
            TensorChunk first = parts.get(0);
            if (parts.size() != first.chunkCount()) {
                throw WriteErrors.duplicateTensor(
                        e.getKey(),
                        fileOf.get(first).file().location(),
                        fileOf.get(parts.get(parts.size() - 1)).file().location());
            }
            List<AssemblyPlan.Range> ranges = new ArrayList<>();
            if (first.decoder() != null) {
                long length = 0;
                for (TensorChunk c : parts) {
                    length += c.length();
                }
                FileSlice slice = fileOf.get(first);
                ranges.add(new AssemblyPlan.Range(
                        slice.file().location(),
                        slice.file().length(),
                        first.offset(),
                        length,
                        first.decoder(),
                        first.rank() == 0 ? 1 : first.dim(0)));
            } else {
                for (TensorChunk c : parts) {
                    FileSlice slice = fileOf.get(c);
                    ranges.add(new AssemblyPlan.Range(
                            slice.file().location(), slice.file().length(), c.offset(), c.length()));
                }
            }
            plan.add(e.getKey(), first.dtype(), first.shape(), ranges);
        }
        return plan.build(conf.dtype(), conf.maxShardSize(), conf.filePrefix(), conf.metadata());
    }
}
