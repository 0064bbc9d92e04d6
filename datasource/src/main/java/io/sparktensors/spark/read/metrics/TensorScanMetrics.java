package io.sparktensors.spark.read.metrics;

import org.apache.spark.sql.connector.metric.CustomMetric;
import org.apache.spark.sql.connector.metric.CustomSumMetric;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;

/**
 * The scan's metrics in the Spark UI (SQL tab, on the BatchScan node). Executors report tensor bytes,
 * chunks and files; the driver reports what planning read. Spark instantiates these classes by name, so
 * each is public with a no-argument constructor.
 */
public final class TensorScanMetrics {
    public static final String TENSOR_BYTES = "tensorBytesRead";
    public static final String TENSOR_BYTES_MAPPED = "tensorBytesMapped";
    public static final String CHUNKS = "chunksRead";
    public static final String FILES_OPENED = "filesOpened";
    public static final String HEADER_BYTES = "headerBytesRead";
    public static final String HEADER_READS = "headerReads";
    public static final String FILES_PLANNED = "filesPlanned";
    public static final String TENSORS_PLANNED = "tensorsPlanned";

    private TensorScanMetrics() {}

    public static CustomMetric[] all() {
        return new CustomMetric[] {
            new TensorBytes(),
            new TensorBytesMapped(),
            new Chunks(),
            new FilesOpened(),
            new HeaderBytes(),
            new HeaderReads(),
            new FilesPlanned(),
            new TensorsPlanned()
        };
    }

    public static CustomTaskMetric value(String name, long value) {
        return new CustomTaskMetric() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public long value() {
                return value;
            }
        };
    }

    /** Tensor data bytes read by executors. */
    public static final class TensorBytes extends CustomSumMetric {
        @Override
        public String name() {
            return TENSOR_BYTES;
        }

        @Override
        public String description() {
            return "tensor bytes read";
        }
    }

    /** Of the tensor bytes read, those handed over as the file's own mapped pages, never copied (local files). */
    public static final class TensorBytesMapped extends CustomSumMetric {
        @Override
        public String name() {
            return TENSOR_BYTES_MAPPED;
        }

        @Override
        public String description() {
            return "tensor bytes mapped, not copied";
        }
    }

    /** Rows produced: whole tensors or chunks of large ones. */
    public static final class Chunks extends CustomSumMetric {
        @Override
        public String name() {
            return CHUNKS;
        }

        @Override
        public String description() {
            return "tensor chunks read";
        }
    }

    /** Files opened by executors to read tensor data (none when data is not selected). */
    public static final class FilesOpened extends CustomSumMetric {
        @Override
        public String name() {
            return FILES_OPENED;
        }

        @Override
        public String description() {
            return "tensor files opened";
        }
    }

    /** Bytes the driver read to plan: headers and indexes' first reads. */
    public static final class HeaderBytes extends CustomSumMetric {
        @Override
        public String name() {
            return HEADER_BYTES;
        }

        @Override
        public String description() {
            return "header bytes read";
        }
    }

    /** Positioned reads the driver issued for headers (one or two per file). */
    public static final class HeaderReads extends CustomSumMetric {
        @Override
        public String name() {
            return HEADER_READS;
        }

        @Override
        public String description() {
            return "header reads";
        }
    }

    /** Files whose headers were planned. */
    public static final class FilesPlanned extends CustomSumMetric {
        @Override
        public String name() {
            return FILES_PLANNED;
        }

        @Override
        public String description() {
            return "tensor files planned";
        }
    }

    /** Tensors left after filter pushdown. */
    public static final class TensorsPlanned extends CustomSumMetric {
        @Override
        public String name() {
            return TENSORS_PLANNED;
        }

        @Override
        public String description() {
            return "tensors planned";
        }
    }
}
