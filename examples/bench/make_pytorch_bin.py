"""Makes a PyTorch checkpoint for the conversion benchmark: a Llama-shaped state dict of random F32/BF16
tensors saved with torch.save (the zip format), about SIZE_GB gigabytes.

    python make_pytorch_bin.py OUT.bin [SIZE_GB]
    examples/bin/spark-tensors bench-write --source OUT.bin --max-shard-size 1GB
"""
import sys

import torch

out = sys.argv[1]
size_gb = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
hidden, inter = 2048, 5632
layer_bytes = 4 * (4 * hidden * hidden + 3 * hidden * inter) + 2 * 4 * hidden
layers = max(1, int(size_gb * 1e9 / layer_bytes))
g = torch.Generator().manual_seed(0)
sd = {}
for i in range(layers):
    p = f"model.layers.{i}."
    for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
        sd[p + "self_attn." + name + ".weight"] = torch.randn(hidden, hidden, generator=g)
    sd[p + "mlp.gate_proj.weight"] = torch.randn(inter, hidden, generator=g)
    sd[p + "mlp.up_proj.weight"] = torch.randn(inter, hidden, generator=g)
    sd[p + "mlp.down_proj.weight"] = torch.randn(hidden, inter, generator=g)
    sd[p + "input_layernorm.weight"] = torch.ones(hidden, dtype=torch.bfloat16)
    sd[p + "post_attention_layernorm.weight"] = torch.ones(hidden)
torch.save(sd, out)
print(f"{out}: {len(sd)} tensors in {layers} layers")
