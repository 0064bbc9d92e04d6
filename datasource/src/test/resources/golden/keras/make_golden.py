"""Makes the HDF5 files KerasReaderTest reads for what Keras never writes by itself.

Run once with h5py (3.16.0 made the committed files), from this folder:  python make_golden.py
The files are small and deterministic (no timestamps), so re-running gives the same bytes.

features.h5  every element type and storage layout the reader handles or skips, plus a soft link
             and an external link (neither may be followed)
external.h5  a dataset in HDF5 external storage (its bytes live in raw.bin, which does not exist)
repeated.h5  a Keras 2 weights file whose layer_names repeat one layer 1,000 times, each listing its one
             weight 1,000 times (a million weight names if each repeat were walked)
"""
import h5py
import numpy as np

KW = dict(track_times=False)

with h5py.File("features.h5", "w", track_order=False) as f:
    g = f.create_group("group/inner")
    f.create_dataset("be_f32", data=(np.arange(12, dtype=np.float32) * 0.5).reshape(3, 4).astype(">f4"), **KW)
    f.create_dataset("be_i16", data=np.arange(-3, 3, dtype=">i2"), **KW)
    f.create_dataset("chunked_gzip", data=np.arange(60, dtype=np.float32).reshape(10, 6),
                     chunks=(4, 4), compression="gzip", shuffle=True, **KW)
    f.create_dataset("chunked_be_f64", data=np.linspace(0, 1, 7).astype(">f8"), chunks=(3,), **KW)
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.COMPACT)
    dcpl.set_obj_track_times(False)
    space = h5py.h5s.create_simple((2, 2))
    compact = h5py.h5d.create(f.id, b"compact_i32", h5py.h5t.STD_I32LE, space, dcpl=dcpl)
    compact.write(h5py.h5s.ALL, h5py.h5s.ALL, np.array([[1, -2], [3, -4]], dtype=np.int32))
    f.create_dataset("flags", data=np.array([True, False, True, True]), **KW)
    f.create_dataset("u8", data=np.arange(250, 256, dtype=np.uint8), **KW)
    f.create_dataset("u64", data=np.array([2**64 - 1, 1], dtype=np.uint64), **KW)
    f.create_dataset("f16", data=np.array([1.5, -2.25], dtype=np.float16), **KW)
    f.create_dataset("scalar_i64", data=np.int64(-7), **KW)
    f.create_dataset("empty_f32", shape=(0, 3), dtype=np.float32, **KW)
    f.create_dataset("text", data=np.array([b"abc", b"de"]), **KW)
    f.create_dataset("complex", data=np.array([1 + 2j], dtype=np.complex64), **KW)
    g.create_dataset("deep", data=np.arange(3, dtype=np.int8), **KW)
    f["soft"] = h5py.SoftLink("/be_f32")
    f["ext"] = h5py.ExternalLink("other.h5", "/secret")

with h5py.File("external.h5", "w") as f:
    f.create_dataset("outside", shape=(4,), dtype=np.float32, external=[("raw.bin", 0, 16)], **KW)

with h5py.File("repeated.h5", "w") as f:
    f.attrs["layer_names"] = np.array([b"dense"] * 1000)
    g = f.create_group("dense")
    g.attrs["weight_names"] = np.array([b"dense/kernel:0"] * 1000)
    g.create_dataset("dense/kernel:0", data=np.arange(6, dtype=np.float32).reshape(2, 3), **KW)
