package io.sparktensors.format.tensorflow;

import io.sparktensors.errors.MalformedTensorFileException;

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

  static BundleEntry parse(ProtoReader p) throws MalformedTensorFileException {
    long dtype = 0;
    long[] shape = new long[0];
    long shardId = 0;
    long offset = 0;
    long size = 0;
    int crc = 0;
    int slices = 0;
    while (p.hasField()) {
      int field = p.readField();
      switch (field) {
        case 1 -> dtype = p.readVarintField(field);
        case 2 -> shape = parseShape(p.readMessageField(field, "TensorShapeProto"));
        case 3 -> shardId = p.readVarintField(field);
        case 4 -> offset = p.readVarintField(field);
        case 5 -> size = p.readVarintField(field);
        case 6 -> crc = p.readFixed32Field(field);
        case 7 -> {
          p.readMessageField(field, "TensorSliceProto");
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

  private static long[] parseShape(ProtoReader p) throws MalformedTensorFileException {
    long[] dims = new long[4];
    int rank = 0;
    while (p.hasField()) {
      int field = p.readField();
      if (field == 2) {
        ProtoReader dim = p.readMessageField(field, "TensorShapeProto.Dim");
        long size = 0;
        while (dim.hasField()) {
          int f = dim.readField();
          if (f == 1) {
            size = dim.readVarintField(f);
          } else {
            dim.skipField();
          }
        }
        if (size < 0) {
          throw p.fault("a dimension is " + size + "; saved tensors have fully known shapes");
        }
        if (rank == dims.length) {
          dims = java.util.Arrays.copyOf(dims, rank * 2);
        }
        dims[rank++] = size;
      } else if (field == 3 && p.readVarintField(field) != 0) {
        throw p.fault("the shape has unknown rank; saved tensors have fully known shapes");
      } else if (field != 3) {
        p.skipField();
      }
    }
    return java.util.Arrays.copyOf(dims, rank);
  }
}
