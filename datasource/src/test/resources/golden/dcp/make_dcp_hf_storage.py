"""Makes the golden of DCP's Hugging Face storage: what torch.distributed.checkpoint.HuggingFaceStorageWriter
saves without consolidation (save_distributed=True), one safetensors file of pieces per rank and output file
(shard-<rank>-model-<i>-of-<n>.safetensors), each file's __metadata__ DCP_SHARDING_INFO giving every piece's
offsets in its full tensor. Read by the DCP reader tests and the Spark source tests as full tensors.

Run from this folder with torch 2.13 (CPU):  /tmp/venv-torch/bin/python make_dcp_hf_storage.py

hf-storage/      2 gloo processes on 127.0.0.1, a 1-D mesh: Shard(0) (one uneven), Shard(1), a 3-D tensor split
                 along dimension 1, a plain tensor every rank holds (saved once), BF16/F16/F32/I64.
expected.json    its "hf-storage" entry: name, dtype, shape and sha256 of each FULL tensor's row-major
                 little-endian bytes, from the original tensors, checked against HuggingFaceStorageReader's load.
"""
import json
import os
import shutil
import socket

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
import torch.multiprocessing as mp
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor import Shard, distribute_tensor

from make_dcp import DTYPES, digest

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "hf-storage")


def tensors():
    g = torch.Generator().manual_seed(31)
    return {
        "model.embed_tokens.weight": (torch.randn(7, 4, generator=g).to(torch.bfloat16), Shard(0)),  # 4 + 3 rows
        "model.layers.0.self_attn.q_proj.weight": (torch.randn(4, 6, generator=g).to(torch.float16), Shard(1)),
        "model.layers.0.mlp.up_proj.weight": (torch.randn(6, 5, generator=g), Shard(0)),
        "model.layers.0.conv": (torch.randn(2, 5, 3, generator=g), Shard(1)),  # 3 + 2 along dimension 1
        "model.positions": (torch.arange(10, dtype=torch.int64).reshape(2, 5), Shard(1)),
        "model.norm.weight": (torch.randn(4, generator=g), None),  # plain: every rank holds it, saved once
    }


def run(rank, world, port):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    mesh = init_device_mesh("cpu", (world,))
    state = {}
    for name, (t, placement) in tensors().items():
        state[name] = t if placement is None else distribute_tensor(t, mesh, [placement])
    index = {name: 1 + i % 2 for i, name in enumerate(state)}  # two output files
    writer = dcp.HuggingFaceStorageWriter(OUT, fqn_to_index_mapping=index, save_distributed=True)
    dcp.save(state, storage_writer=writer)
    dist.barrier()
    dist.destroy_process_group()


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    mp.spawn(run, args=(2, port), nprocs=2)
    # torch's own reader of these files, into full tensors: the values the goldens promise
    flat = {name: t for name, (t, _) in tensors().items()}
    loaded = {k: torch.empty_like(v) for k, v in flat.items()}
    dcp.load(loaded, storage_reader=dcp.HuggingFaceStorageReader(OUT))
    entries = []
    for name, t in flat.items():
        assert torch.equal(loaded[name], t), name
        entries.append({"name": name, "dtype": DTYPES[t.dtype], "shape": list(t.shape), "sha256": digest(t)})
    path = os.path.join(HERE, "expected.json")
    with open(path) as f:
        expected = json.load(f)
    expected["hf-storage"] = {"tensors": entries, "skipped": []}
    with open(path, "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print(sorted(os.listdir(OUT)))


if __name__ == "__main__":
    main()
