package io.sparktensors.checkpoint;

import java.util.List;

/**
 * A planned scan and what planning cost.
 *
 * @param splits the read tasks' work
 * @param files files listed
 * @param tensors tensors kept by the predicate
 * @param headerBytes bytes read to list them
 * @param headerReads reads made to list them
 */
public record ScanPlan(List<ReadSplit> splits, int files, long tensors, long headerBytes, long headerReads) {
    public ScanPlan {
        splits = List.copyOf(splits);
    }
}
