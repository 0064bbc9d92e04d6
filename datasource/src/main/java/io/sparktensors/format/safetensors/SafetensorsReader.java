package io.sparktensors.format.safetensors;

import io.sparktensors.format.FormatReader;
import io.sparktensors.format.ReadLimits;
import io.sparktensors.format.StoredTensor;
import io.sparktensors.format.TensorData;
import io.sparktensors.format.TensorListing;
import io.sparktensors.io.FolderFiles;
import io.sparktensors.io.InputFile;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Safetensors files as a {@link FormatReader}: every tensor is a plain run after the header. */
public final class SafetensorsReader implements FormatReader {
    public static final String NAME = "safetensors";

    /** A listing and what reading its header cost. */
    public record Listed(TensorListing listing, long bytesRead, int reads) {}

    @Override
    public int recognitionBytes() {
        return 9;
    }

    /** An 8-byte little-endian header length of a plausible size, then the header's opening brace. */
    @Override
    public boolean recognizes(byte[] start) {
        if (start.length < 9) {
            return false;
        }
        long headerLength = io.sparktensors.format.LittleEndian.getLong(start, 0);
        return headerLength >= 2 && headerLength <= Integer.MAX_VALUE && start[8] == '{';
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public TensorListing list(InputFile file, FolderFiles folder, ReadLimits limits) throws IOException {
        return listCounted(file, limits).listing();
    }

    /** Lists {@code file} with at most two reads, and says how many bytes and reads it took. */
    public Listed listCounted(InputFile file, ReadLimits limits) throws IOException {
        HeaderReader.Result r = HeaderReader.read(file, limits.maxHeaderBytes());
        SafetensorsHeader h = r.header();
        long length = file.length();
        List<StoredTensor> tensors = new ArrayList<>(h.tensors().size());
        for (TensorEntry t : h.tensors()) {
            tensors.add(new StoredTensor(
                    t.name(),
                    t.dtype(),
                    t.shape(),
                    TensorData.plain(file.location(), length, h.dataStart() + t.begin(), t.byteLength())));
        }
        return new Listed(
                new TensorListing(file.location(), tensors, h.metadata(), List.of()), r.bytesRead(), r.reads());
    }
}
