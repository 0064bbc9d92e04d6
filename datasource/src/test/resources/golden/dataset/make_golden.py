"""Makes golden.json from sample.safetensors, the file the dataset layout writes for DatasetGoldenTest.sample().

sample.safetensors is written by the Java test (run it once with -Dsparktensors.golden.update=true):
six rows of label (bigint), weight (double), score (float, stored as F16), flag (boolean), small (tinyint),
emb (array<float>[4]), grid (array<array<int>>, ragged in both dimensions: padded to [6, 3, 3] with
grid.lengths [6] and grid.lengths.2 [6, 3]), tokens (array<int>, ragged, padded: tokens.lengths) and
pixels (binary, declared shape 2,2 as U8); with ragged=pad every array column has its lengths tensors. This script reads it with the reference library, as a PyTorch
DataLoader would, and records each tensor's name, numpy dtype, shape and the sha256 of its C-order bytes,
plus the file's __metadata__.

    python3 -m venv /tmp/venv-st && /tmp/venv-st/bin/pip install safetensors numpy
    /tmp/venv-st/bin/python make_golden.py
"""
import hashlib
import json
import os

import numpy as np
import safetensors
from safetensors import safe_open
from safetensors.numpy import load_file

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "sample.safetensors")
arrays = load_file(path)
with safe_open(path, framework="np") as f:
    metadata = f.metadata()

golden = {
    "made_by": "make_golden.py with safetensors %s, numpy %s" % (safetensors.__version__, np.__version__),
    "metadata": metadata,
    "tensors": {
        name: {
            "dtype": str(a.dtype),
            "shape": list(a.shape),
            "sha256": hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest(),
            "first_row": a[0].tolist(),
        }
        for name, a in sorted(arrays.items())
    },
}
with open(os.path.join(here, "golden.json"), "w") as out:
    json.dump(golden, out, indent=2, sort_keys=True)
    out.write("\n")
print(json.dumps({k: (v["dtype"], v["shape"]) for k, v in golden["tensors"].items()}))
