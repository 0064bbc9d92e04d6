"""torch's own way from a DCP checkpoint to Hugging Face safetensors, the yardstick of the DCP -> HF benchmark:
torch.distributed.checkpoint.format_utils.dcp_to_torch_save (one process, the whole model in memory), then
torch.load and safetensors' save_file, as the tutorials do.

    python dcp_to_hf_torch.py DCP_DIR OUT_DIR
"""
import os
import sys

import torch
from safetensors.torch import save_file
from torch.distributed.checkpoint.format_utils import dcp_to_torch_save

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
tmp = os.path.join(out, "consolidated.pt")
dcp_to_torch_save(src, tmp)
state = torch.load(tmp, weights_only=True)
os.remove(tmp)
save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(out, "model.safetensors"))
