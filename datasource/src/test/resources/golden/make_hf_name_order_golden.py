"""Writes hf-name-order.json: what huggingface_hub's save_torch_state_dict writes for the tensors of
../shared/fixtures/reference/tiny-llama-sharded taken in name order, for several shard sizes: the SHA-256 of
every shard file and the weight map. The writer tests compare spark-tensors' output with it byte for byte.

    python make_hf_name_order_golden.py /path/to/shared/fixtures/reference/tiny-llama-sharded > hf-name-order.json

Made with huggingface_hub 1.33.0, safetensors 0.8.0, torch 2.13.0.
"""
import hashlib
import json
import os
import sys
import tempfile

from huggingface_hub import save_torch_state_dict
from safetensors.torch import load_file

src = sys.argv[1]
state = {}
for name in sorted(os.listdir(src)):
    if name.endswith(".safetensors"):
        state.update(load_file(os.path.join(src, name)))
ordered = {k: state[k] for k in sorted(state)}
out = {}
for size in ["20KB", "60KB", "1GB"]:
    with tempfile.TemporaryDirectory() as d:
        save_torch_state_dict(ordered, d, max_shard_size=size)
        files = {}
        for f in sorted(os.listdir(d)):
            with open(os.path.join(d, f), "rb") as fh:
                files[f] = hashlib.sha256(fh.read()).hexdigest()
        index = {}
        if os.path.exists(os.path.join(d, "model.safetensors.index.json")):
            with open(os.path.join(d, "model.safetensors.index.json")) as fh:
                index = json.load(fh)
        out[size] = {"files": files, "index": index}
json.dump(out, sys.stdout, indent=1, sort_keys=True)
