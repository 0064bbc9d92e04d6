package io.sparktensors.format.tensorflow;

import io.sparktensors.format.proto.ProtoReader;
import java.io.IOException;
import java.util.Arrays;

/**
 * One tensor's {@code BundleEntryProto}: where its bytes are and what they hold.
 *
 * @param dtype TensorFlow's dtype code
 * @param shape the dimensions; checked non-negative and of known rank
 * @param shardId the data shard holding the bytes
 * @param offset first byte in that shard
 * @param size number of bytes
 * @param maskedCrc32c TensorFlow's masked CRC32C of those bytes
 * @param slices how many slices of a partitioned variable the entry lists (0 for a whole tensor)
 */
record BundleEntry(int dtype, long[] shape, long shardId, long offset, long size, int maskedCrc32c, int slices) {

    /** Parses the BundleEntryProto {@code p} reads, to its end. */
    static BundleEntry parse(ProtoReader p) throws IOException {
        long dtype = 0;
        long[] shape = new long[0];
        long shardId = 0;
        long offset = 0;
        long size = 0;
        int crc = 0;
        int slices = 0;
        while (p.next()) {
            switch (p.field()) {
                case 1 -> dtype = p.readVarint();
                case 2 -> shape = parseShape(p);
                case 3 -> shardId = p.readVarint();
                case 4 -> offset = p.readVarint();
                case 5 -> size = p.readVarint();
                case 6 -> crc = p.readFixed32();
                case 7 -> {
                    // Entered, not skipped, so the nesting limit holds for it as for any message.
                    p.enter("TensorSliceProto");
                    p.exit();
                    slices++;
                }
                default -> p.skipField();
            }
        }
        if (dtype < 0 || dtype > Integer.MAX_VALUE) {
            throw p.fault("the dtype code " + dtype + " is out of range");
        }
        if (offset < 0 || size < 0) {
            throw p.fault("the offset " + offset + " or size " + size + " is negative");
        }
        return new BundleEntry((int) dtype, shape, shardId, offset, size, crc, slices);
    }

    /** Parses the TensorShapeProto in the current field. */
    private static long[] parseShape(ProtoReader p) throws IOException {
        p.enter("TensorShapeProto");
        long[] dims = new long[4];
        int rank = 0;
        while (p.next()) {
            int field = p.field();
            if (field == 2) {
                p.enter("TensorShapeProto.Dim");
                long size = 0;
                while (p.next()) {
                    if (p.field() == 1) {
                        size = p.readVarint();
                    } else {
                        p.skipField();
                    }
                }
                p.exit();
                if (size < 0) {
                    throw p.fault("a dimension is " + size + "; saved tensors have fully known shapes");
                }
                if (rank == dims.length) {
                    dims = Arrays.copyOf(dims, rank * 2);
                }
                dims[rank++] = size;
            } else if (field == 3 && p.readVarint() != 0) {
                throw p.fault("the shape has unknown rank; saved tensors have fully known shapes");
            } else if (field != 3) {
                p.skipField();
            }
        }
        p.exit();
        return Arrays.copyOf(dims, rank);
    }
}
