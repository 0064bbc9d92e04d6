"""Writes real-safetensors.json: what the safetensors reference library reads from every *.safetensors file
under ../shared/fixtures/real (the third-party checkpoints, read in place, never copied).

    python make_real_safetensors_golden.py /path/to/shared/fixtures/real > real-safetensors.json

Made with safetensors 0.8.0 and torch 2.13.0. For each file: its __metadata__ and, per tensor, the dtype
code, shape and SHA-256 of the raw little-endian bytes.
"""
import hashlib
import json
import os
import sys

import torch
from safetensors import safe_open

CODES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
         torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
         torch.bool: "BOOL", torch.uint16: "U16", torch.uint32: "U32", torch.uint64: "U64"}

root = sys.argv[1]
out = {}
for folder, _, files in sorted(os.walk(root)):
    for name in sorted(files):
        if not name.endswith(".safetensors"):
            continue
        path = os.path.join(folder, name)
        tensors = {}
        with safe_open(path, framework="pt") as f:
            metadata = f.metadata() or {}
            for key in f.keys():
                t = f.get_tensor(key)
                raw = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
                tensors[key] = {"dtype": CODES[t.dtype], "shape": list(t.shape),
                                "sha256": hashlib.sha256(raw).hexdigest()}
        out[os.path.relpath(path, root)] = {"metadata": metadata, "tensors": tensors}
json.dump(out, sys.stdout, indent=1, sort_keys=True)
