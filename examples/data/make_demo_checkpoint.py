"""Makes examples/data/tiny-llama: a small random Llama checkpoint in the Hugging Face sharded layout.

Run with the reference tools (transformers, torch, safetensors):
    python make_demo_checkpoint.py
The committed files were made by this script with transformers 5.18.0, torch 2.13.0, safetensors 0.8.0.
"""
import os

import torch
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
config = LlamaConfig(
    vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=4,
    num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
    tie_word_embeddings=False,
)
model = LlamaForCausalLM(config).to(torch.bfloat16)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny-llama")
model.save_pretrained(out, max_shard_size="200KB")

# expected.json: per tensor dtype, shape, byte count and SHA-256 of its raw little-endian bytes, read back
# with the safetensors reference library, so tests can check what spark-tensors reports.
import hashlib
import json

from safetensors import safe_open

DTYPES = {torch.bfloat16: "BF16", torch.float16: "F16", torch.float32: "F32", torch.int64: "I64"}
expected = {}
for name in sorted(os.listdir(out)):
    if name.endswith(".safetensors"):
        with safe_open(os.path.join(out, name), framework="pt") as f:
            for key in f.keys():
                t = f.get_tensor(key)
                raw = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
                expected[key] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "nbytes": len(raw),
                                 "sha256": hashlib.sha256(raw).hexdigest(), "file": name}
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump({"producer": "transformers save_pretrained", "tensors": expected}, f, indent=1, sort_keys=True)
