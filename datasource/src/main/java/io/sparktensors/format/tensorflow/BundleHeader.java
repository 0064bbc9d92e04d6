package io.sparktensors.format.tensorflow;

import io.sparktensors.format.proto.ProtoReader;
import java.io.IOException;

/**
 * A bundle's {@code BundleHeaderProto}, the value of the index's empty key.
 *
 * @param numShards how many data shards the bundle has
 * @param bigEndian whether tensor bytes are stored big-endian
 */
record BundleHeader(int numShards, boolean bigEndian) {
    /** The newest bundle format version this reader knows (TensorFlow's kTensorBundleVersion). */
    static final long BUNDLE_VERSION = 1;

    /** Parses the BundleHeaderProto {@code p} reads, to its end. */
    static BundleHeader parse(ProtoReader p) throws IOException {
        long numShards = 0;
        long endianness = 0;
        long minConsumer = 0;
        while (p.next()) {
            switch (p.field()) {
                case 1 -> numShards = p.readVarint();
                case 2 -> endianness = p.readVarint();
                case 3 -> {
                    p.enter("VersionDef");
                    while (p.next()) {
                        if (p.field() == 2) {
                            minConsumer = p.readVarint();
                        } else {
                            p.skipField();
                        }
                    }
                    p.exit();
                }
                default -> p.skipField();
            }
        }
        if (numShards < 1 || numShards > Integer.MAX_VALUE) {
            throw p.fault("num_shards is " + numShards + "; a bundle has at least one data shard");
        }
        if (endianness != 0 && endianness != 1) {
            throw p.fault("endianness is " + endianness + ", neither LITTLE (0) nor BIG (1)");
        }
        if (minConsumer > BUNDLE_VERSION) {
            throw p.fault("the bundle needs a reader of format version " + minConsumer + " or later, but this one "
                    + "reads version " + BUNDLE_VERSION + "; re-save the checkpoint with an older TensorFlow");
        }
        return new BundleHeader((int) numShards, endianness == 1);
    }
}
