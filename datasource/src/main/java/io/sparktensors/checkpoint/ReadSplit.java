package io.sparktensors.checkpoint;

import java.io.Serializable;
import java.util.List;

/** The work of one read task: slices of one or more files. */
public record ReadSplit(List<FileSlice> slices) implements Serializable {

  public ReadSplit {
    slices = List.copyOf(slices);
  }

  public long dataBytes() {
    long n = 0;
    for (FileSlice s : slices) {
      n += s.dataBytes();
    }
    return n;
  }

  public int chunkCount() {
    int n = 0;
    for (FileSlice s : slices) {
      n += s.chunks().size();
    }
    return n;
  }
}
