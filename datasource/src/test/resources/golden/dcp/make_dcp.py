"""Makes the DCP (torch.distributed.checkpoint) goldens read by DcpReaderTest and the Spark tests.

Run from this folder with torch 2.13 (CPU):  /tmp/venv-torch/bin/python make_dcp.py

two-ranks/   2 gloo processes on 127.0.0.1, a 1-D mesh: DTensors sharded Shard(0) (runs of rows, one uneven)
             and Shard(1) (strided pieces), BF16/F16/F32/I64, a replicated scalar, an optimizer-state-like
             entry and non-tensor (bytes) items.
four-ranks/  4 processes, a 2x2 mesh, [Shard(0), Shard(1)]: each tensor in 4 blocks.
one-rank/    one process, no process group: plain tensors, a transposed one and a channels_last one (each
             stored as a strided view of its storage, as torch.save keeps views that fill their storage).
strided-ranks/  2 processes, DTensor.from_local of non-contiguous local shards (transposed, channels_last):
             chunks stored as strided views.
hostile/     .metadata pickles for two-ranks/ made wrong on purpose (see HOSTILE).
expected.json  per folder: name, dtype, shape and sha256 of the FULL tensor's row-major little-endian bytes,
               from the original tensors, checked against dcp.load into full tensors; and the bytes items.
"""
import copy
import hashlib
import json
import os
import pickle
import shutil
import socket
import warnings

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
import torch.multiprocessing as mp
from torch.distributed.checkpoint.metadata import ChunkStorageMetadata
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor import Shard, distribute_tensor

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = {torch.bfloat16: "BF16", torch.float16: "F16", torch.float32: "F32", torch.int64: "I64"}


def two_rank_tensors():
    g = torch.Generator().manual_seed(12)
    return {
        # name: (tensor, placement on the 1-D mesh or None for a plain tensor every rank holds)
        "model.embed.weight": (torch.randn(6, 4, generator=g).to(torch.bfloat16), Shard(0)),
        "model.layers.0.attn.q.weight": (torch.randn(4, 6, generator=g).to(torch.float16), Shard(1)),
        "model.layers.0.mlp.weight": (torch.randn(5, 3, generator=g), Shard(0)),  # 3 + 2 rows
        "model.layers.0.mlp.conv": (torch.randn(2, 5, 3, generator=g), Shard(1)),  # 3-D, 3 + 2 along dim 1
        "model.positions": (torch.arange(14, dtype=torch.int64).reshape(2, 7), Shard(1)),  # 4 + 3 columns
        "model.layers.0.mlp.bias": (torch.randn(5, generator=g), Shard(0)),  # 1-D
        "model.scale": (torch.tensor(0.5), None),  # replicated scalar
        "optim.state.w.exp_avg": (torch.randn(6, 4, generator=g), Shard(0)),
    }


def four_rank_tensors():
    g = torch.Generator().manual_seed(44)
    return {
        "grid.weight": torch.randn(6, 8, generator=g),
        "grid.half": torch.randn(5, 3, generator=g).to(torch.bfloat16),  # uneven: 3 + 2 rows, 2 + 1 columns
    }


def one_rank_tensors():
    g = torch.Generator().manual_seed(1)
    return {
        "w": torch.randn(3, 4, generator=g),
        "b": torch.arange(4, dtype=torch.int64),
        "h": torch.randn(2, 2, generator=g).to(torch.float16),
        "wt": torch.randn(4, 3, generator=g).t(),
        "conv": torch.randn(2, 3, 2, 2, generator=g).to(memory_format=torch.channels_last),
    }


def strided_locals(rank):
    """Each rank's non-contiguous local shards, whose storages they fill (so DCP stores them as views)."""
    g = torch.Generator().manual_seed(100 + rank)
    return {
        "t": (torch.randn(3, 3 - rank, generator=g).t(), Shard(0)),  # local (3 - rank) x 3, transposed
        "c": (torch.randn(2, 3, 2, 2, generator=g).to(memory_format=torch.channels_last), Shard(1)),
        "tc": (torch.randn(5, 2, generator=g).t(), Shard(1)),  # local 2 x 5, transposed, by columns
    }


def strided_full():
    parts = {k: [] for k in strided_locals(0)}
    placements = {}
    for rank in range(2):
        for k, (t, p) in strided_locals(rank).items():
            parts[k].append(t)
            placements[k] = p
    return {k: torch.cat(v, dim=placements[k].dim).contiguous() for k, v in parts.items()}


def nested(flat):
    """{'a.b.c': v} -> {'a': {'b': {'c': v}}}: DCP names state dict entries by joining keys with dots."""
    out = {}
    for name, v in flat.items():
        *path, leaf = name.split(".")
        d = out
        for p in path:
            d = d.setdefault(p, {})
        d[leaf] = v
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def two_ranks(rank, world, port, out):
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    mesh = init_device_mesh("cpu", (world,))
    flat = {}
    for name, (t, placement) in two_rank_tensors().items():
        flat[name] = t.clone() if placement is None else distribute_tensor(t, mesh, [placement])
    state = nested(flat)
    state["train"] = {"step": 7, "note": "not a tensor"}  # bytes items
    dcp.save(state, checkpoint_id=out)
    dist.destroy_process_group()


def strided_ranks(rank, world, port, out):
    from torch.distributed.tensor import DTensor
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    mesh = init_device_mesh("cpu", (world,))
    full = strided_full()
    state = {}
    for k, (t, placement) in strided_locals(rank).items():
        assert not t.is_contiguous() and t.untyped_storage().nbytes() == t.numel() * t.element_size(), k
        state[k] = DTensor.from_local(t, mesh, [placement], run_check=False, shape=full[k].shape,
                                      stride=full[k].stride())
    dcp.save(state, checkpoint_id=out)
    dist.destroy_process_group()


def four_ranks(rank, world, port, out):
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    mesh = init_device_mesh("cpu", (2, 2))
    state = nested({k: distribute_tensor(t, mesh, [Shard(0), Shard(1)]) for k, t in four_rank_tensors().items()})
    dcp.save(state, checkpoint_id=out)
    dist.destroy_process_group()


def digest(t):
    return hashlib.sha256(t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()).hexdigest()


def expected(folder, flat, skipped):
    """Entries for the original tensors, each checked against dcp.load into a full tensor."""
    loaded = {k: torch.empty_like(v) for k, v in flat.items()}
    dcp.load(loaded, checkpoint_id=os.path.join(HERE, folder))
    entries = []
    for name, t in flat.items():
        assert torch.equal(loaded[name], t), name
        entries.append({"name": name, "dtype": DTYPES[t.dtype], "shape": list(t.shape), "sha256": digest(t)})
    return {"tensors": entries, "skipped": skipped}


def fresh(folder):
    path = os.path.join(HERE, folder)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def chunk(offsets, sizes):
    return ChunkStorageMetadata(offsets=torch.Size(offsets), sizes=torch.Size(sizes))


def hostile(metadata):
    """Variants of two-ranks' .metadata, each wrong in one way the reader must refuse, naming it."""
    w, q = "model.embed.weight", "model.layers.0.attn.q.weight"
    variants = {}

    def variant(name, change):
        m = copy.deepcopy(metadata)
        change(m)
        variants[name] = m

    def storage(m, fqn, index):
        for k, v in m.storage_data.items():
            if k.fqn == fqn and k.index == index:
                return k, v
        raise KeyError(fqn)

    def set_chunk(m, fqn, i, c):
        m.state_dict_metadata[fqn].chunks[i] = c

    # Rows 3..7 of a 6-row tensor.
    variant("chunk-outside", lambda m: set_chunk(m, w, 1, chunk([3, 0], [4, 4])))
    # Both chunks start at row 0 (rows 0..2 twice, rows 3..5 never) -> overlap.
    variant("overlap", lambda m: set_chunk(m, w, 1, chunk([0, 0], [3, 4])))
    # The tensor grows a row no chunk holds -> gap.
    def gap(m):
        md = m.state_dict_metadata[w]
        md.size = torch.Size([7, 4])
    variant("gap", gap)
    # A stored range past the end of its rank file.
    def beyond(m):
        k, v = storage(m, w, 1)
        v.offset = v.offset + 1_000_000
    variant("range-outside", beyond)
    # A relative path leaving the folder.
    def escape(m):
        k, v = storage(m, q, 0)
        v.relative_path = "../two-ranks/" + v.relative_path
    variant("path-escape", escape)
    # The metadata says F64, the chunks hold F32: byte lengths do not match dtype * elements.
    def wrong_dtype(m):
        md = m.state_dict_metadata["optim.state.w.exp_avg"]
        md.properties.dtype = torch.float64
    variant("wrong-length", wrong_dtype)
    # A storage range cut short: the embedded torch.save zip is truncated.
    def short(m):
        k, v = storage(m, q, 1)
        v.length = v.length - 40
    variant("short-range", short)
    # A chunk with no stored range at all.
    def missing(m):
        k, v = storage(m, w, 0)
        del m.storage_data[k]
    variant("missing-storage", missing)
    return variants


def main():
    warnings.simplefilter("ignore")
    out = {}

    path = fresh("two-ranks")
    mp.spawn(two_ranks, args=(2, free_port(), path), nprocs=2, join=True)
    out["two-ranks"] = expected("two-ranks", {k: t for k, (t, _) in two_rank_tensors().items()},
                                ["train.step", "train.note"])

    path = fresh("four-ranks")
    mp.spawn(four_ranks, args=(4, free_port(), path), nprocs=4, join=True)
    out["four-ranks"] = expected("four-ranks", four_rank_tensors(), [])

    path = fresh("strided-ranks")
    mp.spawn(strided_ranks, args=(2, free_port(), path), nprocs=2, join=True)
    out["strided-ranks"] = expected("strided-ranks", strided_full(), [])

    path = fresh("one-rank")
    dcp.save(one_rank_tensors(), checkpoint_id=path)  # no process group: a single-process save
    out["one-rank"] = expected("one-rank", one_rank_tensors(), [])

    with open(os.path.join(HERE, "two-ranks", ".metadata"), "rb") as f:
        metadata = pickle.load(f)
    hostile_dir = fresh("hostile")
    for name, m in hostile(metadata).items():
        with open(os.path.join(hostile_dir, name + ".metadata"), "wb") as f:
            pickle.dump(m, f, protocol=4)  # as DCP writes it

    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
