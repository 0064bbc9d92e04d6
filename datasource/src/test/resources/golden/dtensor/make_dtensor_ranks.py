"""Makes the per-rank DTensor pickles (what verl and SkyRL save) read by DTensorRanksReaderTest and the Spark tests.

Run from this folder with torch 2.13 (CPU):  /tmp/venv-torch/bin/python make_dtensor_ranks.py

Each folder holds model_world_size_{N}_rank_{r}.pt: every rank's torch.save(model.state_dict()) after FSDP2
fully_shard, so parameters are DTensors holding the rank's local shard and buffers plain tensors.

fsdp-2/      2 gloo processes on 127.0.0.1, a 1-D mesh: Shard(0), uneven (7 rows: 4 + 3; 5 rows: 3 + 2),
             F32/F16/BF16 parameters (one fully_shard per dtype), an I64 buffer; huggingface/ beside it.
fsdp-4/      the same model on 4 processes: 7 rows as 2+2+2+1, 5 rows as 2+2+1+0 (an empty last shard).
tp-2x2/      4 processes, a 2x2 ("dp", "tp") mesh: the two Linear layers parallelized by TP (colwise, rowwise)
             then fully_shard on "dp": (_StridedShard(0, sf=2), Shard(0)), (Shard(0), Shard(1)),
             (Shard(0), Replicate()); the embedding is sharded on the "dp" sub-mesh alone (ranks with the same
             dp coordinate hold the same shard).
strided-2x2/  4 processes, a 2x2 mesh, distribute_tensor with (Shard(d), _StridedShard(d, sf=2)) along rows and
             along columns: each rank's shard is two separate runs of the full tensor (rows {0, 2}, ...), uneven along columns (11).
hostile/     fsdp-2's files changed in one way each (see HOSTILE), torch.save'd again.
expected.json  per folder: name, dtype, shape and sha256 of each FULL tensor's row-major little-endian bytes,
               from the unsharded state_dict, checked against full_tensor() on every rank.
"""
import hashlib
import json
import os
import shutil
import socket
import warnings

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = {torch.bfloat16: "BF16", torch.float16: "F16", torch.float32: "F32", torch.int64: "I64"}


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(7, 4)  # F32, 7 rows
        self.up = nn.Linear(4, 5).to(torch.float16)  # 5 x 4 weight, 5 bias
        self.down = nn.Linear(5, 3).to(torch.bfloat16)  # 3 x 5 weight
        self.register_buffer("positions", torch.arange(6, dtype=torch.int64).reshape(2, 3))


def model():
    torch.manual_seed(16)
    return Tiny()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def digest(t):
    return hashlib.sha256(t.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()).hexdigest()


def check_full(sd, full):
    """Every DTensor's full_tensor() (a collective, so on every rank) equals the unsharded value."""
    from torch.distributed.tensor import DTensor
    for name, v in sd.items():
        value = v.full_tensor() if isinstance(v, DTensor) else v
        assert torch.equal(value, full[name]), name


def fsdp(rank, world, port, out):
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    mesh = init_device_mesh("cpu", (world,))
    m = model()
    full = {k: v.clone() for k, v in m.state_dict().items()}
    for sub in (m.embed, m.up, m.down):  # FSDP2 wants one dtype per group
        fully_shard(sub, mesh=mesh)
    sd = m.state_dict()
    check_full(sd, full)
    torch.save(sd, os.path.join(out, f"model_world_size_{world}_rank_{rank}.pt"))
    dist.destroy_process_group()


def tp(rank, world, port, out):
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    mesh = init_device_mesh("cpu", (2, 2), mesh_dim_names=("dp", "tp"))
    m = model()
    full = {k: v.clone() for k, v in m.state_dict().items()}
    parallelize_module(m, mesh["tp"], {"up": ColwiseParallel(), "down": RowwiseParallel()})
    for sub in (m.embed, m.up, m.down):
        fully_shard(sub, mesh=mesh["dp"])
    sd = m.state_dict()
    check_full(sd, full)
    torch.save(sd, os.path.join(out, f"model_world_size_{world}_rank_{rank}.pt"))
    dist.destroy_process_group()


def strided_tensors():
    g = torch.Generator().manual_seed(22)
    return {"rows": torch.randn(8, 3, generator=g), "cols": torch.randn(3, 11, generator=g).to(torch.bfloat16)}


def strided(rank, world, port, out):
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import Shard, distribute_tensor
    from torch.distributed.tensor.placement_types import _StridedShard
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    mesh = init_device_mesh("cpu", (2, 2))
    full = strided_tensors()
    # src_data_rank=None: every rank splits the same full tensor itself (a scatter wants even shards).
    sd = {"rows": distribute_tensor(full["rows"], mesh, [Shard(0), _StridedShard(0, split_factor=2)],
                                    src_data_rank=None),
          "cols": distribute_tensor(full["cols"], mesh, [Shard(1), _StridedShard(1, split_factor=2)],
                                    src_data_rank=None)}
    check_full(sd, full)
    torch.save(sd, os.path.join(out, f"model_world_size_{world}_rank_{rank}.pt"))
    dist.destroy_process_group()


def expected(tensors=None):
    if tensors is not None:
        return {"tensors": [{"name": k, "dtype": DTYPES[v.dtype], "shape": list(v.shape), "sha256": digest(v)}
                            for k, v in tensors.items()]}
    return {"tensors": [{"name": k, "dtype": DTYPES[v.dtype], "shape": list(v.shape), "sha256": digest(v)}
                        for k, v in model().state_dict().items()]}


def fresh(folder):
    path = os.path.join(HERE, folder)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def hostile():
    """fsdp-2's rank files, each pair changed in one way the reader must refuse (naming it)."""
    from torch.distributed.tensor import Replicate, Shard
    src = os.path.join(HERE, "fsdp-2")
    names = [f"model_world_size_2_rank_{r}.pt" for r in range(2)]

    def variant(folder, change):
        path = fresh(os.path.join("hostile", folder))
        for r, n in enumerate(names):
            sd = torch.load(os.path.join(src, n), weights_only=False)
            change(r, sd)
            torch.save(sd, os.path.join(path, n))

    def spec(sd, name):
        return sd[name]._spec

    # Rank 1 claims coordinate 0, as rank 0 does, its rank map made to agree: both hold rows 0..3 (the mesh
    # object is shared by every DTensor of the file, so every tensor says so).
    def overlap(r, sd):
        if r == 1:
            mesh = spec(sd, "embed.weight").mesh
            mesh._coordinate_on_dim = (0,)
            mesh._flatten_rank_map = (1, 0)
    variant("overlap", overlap)

    # Rank 1's embed shard is said to be replicated: the whole tensor, overlapping rank 0's rows.
    def replicated(r, sd):
        if r == 1:
            spec(sd, "embed.weight").placements = (Replicate(),)
    variant("overlap-replicate", replicated)

    # The spec's global shape shrinks to 3 rows (the DTensor's own size stays 7).
    def outside(r, sd):
        s = spec(sd, "embed.weight")
        s.tensor_meta = s.tensor_meta._replace(shape=torch.Size([3, 4]))
    variant("outside", outside)

    # Rank 1 stands at coordinate 5 of a mesh of 2 (every tensor: they share the mesh).
    def coordinate(r, sd):
        if r == 1:
            spec(sd, "up.weight").mesh._coordinate_on_dim = (5,)
    variant("coordinate-outside", coordinate)

    # Every mesh says 4 devices, in a world of 2 rank files.
    def mesh_size(r, sd):
        for v in sd.values():
            if hasattr(v, "_spec"):
                from torch.distributed._mesh_layout import _MeshLayout
                v._spec.mesh._layout = _MeshLayout.from_sizes_strides((4,), (1,))
    variant("mesh-size", mesh_size)

    # A Shard along a dimension the tensor does not have.
    def dim(r, sd):
        spec(sd, "up.bias").placements = (Shard(3),)
    variant("shard-dim", dim)

    # The file named rank 1 was saved by rank 0 (its rank map made to agree with its coordinate).
    def rank(r, sd):
        if r == 1:
            mesh = spec(sd, "embed.weight").mesh
            mesh._rank = 0
            mesh._flatten_rank_map = (1, 0)
    variant("rank-mismatch", rank)


def main():
    warnings.simplefilter("ignore")
    out = {}
    for folder, fn, world in (("fsdp-2", fsdp, 2), ("fsdp-4", fsdp, 4), ("tp-2x2", tp, 4)):
        path = fresh(folder)
        mp.spawn(fn, args=(world, free_port(), path), nprocs=world, join=True)
        out[folder] = expected()
    path = fresh("strided-2x2")
    mp.spawn(strided, args=(4, free_port(), path), nprocs=4, join=True)
    out["strided-2x2"] = expected(strided_tensors())
    hf = os.path.join(HERE, "fsdp-2", "huggingface")
    os.makedirs(hf)
    with open(os.path.join(hf, "config.json"), "w") as f:
        json.dump({"model_type": "tiny", "hidden_size": 4}, f)
    with open(os.path.join(hf, "tokenizer_config.json"), "w") as f:
        json.dump({"model_max_length": 8}, f)
    hostile()
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
