"""Makes a DCP (torch.distributed.checkpoint) checkpoint for the DCP -> Hugging Face conversion benchmark:
a Llama-shaped model of F32 tensors, about SIZE_GB gigabytes, saved by WORLD gloo processes on 127.0.0.1 as
FSDP2 shards it (every weight Shard(0) across the ranks, the attention projections Shard(1) as tensor
parallelism would), with dcp.save: a folder of .metadata and one __R_0.distcp file per rank.

    python make_dcp_checkpoint.py OUT_DIR [SIZE_GB] [WORLD]
    examples/bin/spark-tensors convert OUT_DIR HF_DIR          # this project
    python dcp_to_hf_torch.py OUT_DIR HF_DIR                   # torch's own way, for comparison
"""
import os
import socket
import sys

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
import torch.multiprocessing as mp
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor import Shard, distribute_tensor

HIDDEN, INTER = 2048, 5632


def layers_for(size_gb):
    layer_bytes = 4 * (4 * HIDDEN * HIDDEN + 3 * HIDDEN * INTER + 2 * HIDDEN)
    return max(1, int(size_gb * 1e9 / layer_bytes))


def run(rank, world, port, out, layers):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    mesh = init_device_mesh("cpu", (world,))
    state = {}
    for i in range(layers):
        g = torch.Generator().manual_seed(i)  # every rank makes the same full tensors, then keeps its shard
        p = f"model.layers.{i}."
        for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
            full = torch.randn(HIDDEN, HIDDEN, generator=g)
            state[p + "self_attn." + name + ".weight"] = distribute_tensor(full, mesh, [Shard(1)], src_data_rank=None)
        for name, shape in (("gate_proj", (INTER, HIDDEN)), ("up_proj", (INTER, HIDDEN)), ("down_proj", (HIDDEN, INTER))):
            full = torch.randn(*shape, generator=g)
            state[p + "mlp." + name + ".weight"] = distribute_tensor(full, mesh, [Shard(0)], src_data_rank=None)
        for name in ("input_layernorm", "post_attention_layernorm"):
            state[p + name + ".weight"] = distribute_tensor(torch.ones(HIDDEN), mesh, [Shard(0)], src_data_rank=None)
    dcp.save(state, checkpoint_id=out)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    out = sys.argv[1]
    size_gb = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
    world = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    layers = layers_for(size_gb)
    mp.spawn(run, args=(world, port, out, layers), nprocs=world)
    print(f"{out}: {layers} layers, {world} ranks")
