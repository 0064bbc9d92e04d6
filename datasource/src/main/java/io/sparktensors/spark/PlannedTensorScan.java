package io.sparktensors.spark;

import io.sparktensors.checkpoint.ScanPlan;

/**
 * A tensor source's scan as the writer's fast path sees it: when a DataFrame to write is nothing but such a
 * scan, its planned runs are copied into the new shards without passing through rows. Lets {@code write}
 * recognise a scan without depending on {@code read}.
 */
public interface PlannedTensorScan {

    /** Whether the scan delivers every planned tensor whole (data read, no file skipped while reading). */
    boolean deliversWholeTensors();

    /** The scan's plan (planning if needed). */
    ScanPlan plan();
}
