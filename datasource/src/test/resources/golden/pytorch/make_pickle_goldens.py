"""Makes the small torch.save goldens of the PyTorch reader's pickle support with the real torch.

Run from this folder with a Python that has torch and numpy (CPU torch is enough):
    python make_pickle_goldens.py
Each <name>/ folder receives one file and an expected.json: for every tensor the reader must list, its
safetensors dtype, shape, byte count and the SHA-256 of its raw little-endian, C-contiguous bytes, named
as the reader names it (state_dict names for a whole pickled nn.Module; dict paths joined with "." else).
The Java tests read these without Python.
"""
import hashlib
import json
import os

import numpy as np
import torch
from torch import nn

ST_DTYPE = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}


def raw(t):
    if isinstance(t, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(t.astype(t.dtype.newbyteorder("<"))))
    return t.detach().contiguous()


def entry(t):
    t = raw(t)
    b = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
    return {"dtype": ST_DTYPE[t.dtype], "shape": list(t.shape), "nbytes": len(b),
            "sha256": hashlib.sha256(b).hexdigest()}


def write(name, file_name, obj, expected, **save_args):
    os.makedirs(name, exist_ok=True)
    torch.save(obj, os.path.join(name, file_name), **save_args)
    with open(os.path.join(name, "expected.json"), "w") as f:
        json.dump({"tensors": {k: entry(v) for k, v in expected.items()}}, f, indent=1, sort_keys=True)
        f.write("\n")
    torch.load(os.path.join(name, file_name), weights_only=False)  # loads with torch itself


def state_dict():
    g = torch.Generator().manual_seed(1234)
    base = torch.randn(4, 3, generator=g)
    sd = {
        "f32": base,
        "f32_t": base.t(),  # a strided view of the same storage
        "f64": torch.randn(3, generator=g, dtype=torch.float64),
        "f16": torch.randn(2, 2, generator=g).half(),
        "bf16": torch.randn(5, generator=g).bfloat16(),
        "i64": torch.arange(-3, 3, dtype=torch.int64),
        "i32": torch.tensor([7, -8], dtype=torch.int32),
        "u8": torch.arange(250, 256, dtype=torch.uint8),
        "b": torch.tensor([True, False, True]),
        "scalar": torch.tensor(2.5),
    }
    return sd


def model():
    torch.manual_seed(1234)
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Sequential(nn.ReLU(), nn.Linear(4, 2, bias=False)))
    m[1].register_buffer("scratch", torch.ones(4), persistent=False)
    return m


def main():
    sd = state_dict()
    for protocol in (2, 3, 4, 5):
        write("protocol%d" % protocol, "state.pt", sd, sd, pickle_protocol=protocol)
    m = model()
    write("module", "model.pt", m, m.state_dict())
    write("module4", "model.pt", m, m.state_dict(), pickle_protocol=4)  # sets as EMPTY_SET + ADDITEMS
    net = nn.Linear(2, 2)
    np.random.seed(1234)
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    ckpt = {"state_dict": net.state_dict(), "epoch": 3, "rng": np.random.get_state(), "np_array": arr}
    expected = {"state_dict." + k: v for k, v in net.state_dict().items()}
    expected["np_array"] = arr
    write("lightning", "lightning.pt", ckpt, expected)
    # protocol 4: numpy raw data as BINBYTES, also a big-endian and a Fortran-order array
    ckpt4 = {"le": arr, "be": arr.astype(">i4"), "fortran": np.asfortranarray(arr.astype(np.float64)),
             "u32": np.arange(3, dtype=np.uint32), "f": np.float64(1.5)}
    write("numpy4", "numpy.pt", ckpt4, {"le": arr, "be": arr.astype(">i4"), "fortran": ckpt4["fortran"]},
          pickle_protocol=4)
    # DCP's .metadata: a bare protocol 4 pickle of dataclasses (NEWOBJ + BUILD), read symbolically.
    import shutil
    import warnings
    import torch.distributed.checkpoint as dcp
    import tempfile
    with tempfile.TemporaryDirectory() as out, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "assuming the intent is to save in a single process"
        dcp.save({"w": arr_t(), "b": torch.ones(2, dtype=torch.int64), "step": 3}, checkpoint_id=out)
        os.makedirs("dcp", exist_ok=True)
        # Only the pickle is kept, under a name that is not a dotfile (Maven does not copy those).
        shutil.copyfile(os.path.join(out, ".metadata"), os.path.join("dcp", "metadata.pkl"))


def arr_t():
    return torch.arange(6, dtype=torch.float32).reshape(2, 3)


if __name__ == "__main__":
    main()
