"""Makes the committed seed corpora of the fuzz tests with the reference tools.

Run from this folder with a Python that has safetensors, numpy, torch, onnx, gguf and h5py:
    python make_seeds.py
Each <Test>Inputs/<method>/ folder receives a few small, valid files of its format; Jazzer mutates them.
The TF seed is the bundle index tf.saved_model.save wrote in ../shared/fixtures/reference/tf-savedmodel
(TensorFlow is too large to install for this); the script copies it when that folder is there.
"""
import io
import json
import os
import zipfile

import numpy as np


def put(test, method, name, data):
    d = os.path.join(test + "Inputs", method)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def safetensors_seeds():
    from safetensors.numpy import save
    put("SafetensorsHeaderFuzzTest", "header", "two.safetensors",
        save({"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1, 2], dtype=np.int64)},
             metadata={"format": "pt"}))
    put("SafetensorsHeaderFuzzTest", "header", "scalar.safetensors", save({"s": np.array(3, dtype=np.float16)}))
    index = {"metadata": {"total_size": 40}, "weight_map": {"a": "model-00001-of-00002.safetensors",
                                                            "b": "model-00002-of-00002.safetensors"}}
    put("HfIndexFuzzTest", "index", "index.json", json.dumps(index, indent=2).encode())


def torch_seeds():
    import torch
    sd = {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3), "b": torch.tensor([1, 2], dtype=torch.int64),
          "h": torch.ones(3, dtype=torch.bfloat16)}
    sd["view"] = sd["w"].t()
    buf = io.BytesIO()
    torch.save({"state_dict": sd, "epoch": 1}, buf)
    put("PyTorchFuzzTest", "pytorch", "zip.pt", buf.getvalue())
    buf = io.BytesIO()
    torch.save(sd, buf, _use_new_zipfile_serialization=False)
    put("PyTorchFuzzTest", "pytorch", "legacy.pt", buf.getvalue())
    # Pickle protocols 3 to 5, a whole module and numpy arrays: the goldens of ../../../golden/pytorch
    # (make them first with its make_pickle_goldens.py).
    golden = os.path.join("..", "..", "..", "golden", "pytorch")
    for folder, name in (("protocol3", "state.pt"), ("protocol4", "state.pt"), ("protocol5", "state.pt"),
                         ("module4", "model.pt"), ("lightning", "lightning.pt"), ("numpy4", "numpy.pt")):
        with open(os.path.join(golden, folder, name), "rb") as f:
            put("PyTorchFuzzTest", "pytorch", folder + ".pt", f.read())


def dcp_seeds():
    # DCP .metadata pickles (the rank files stay fixed: DcpFuzzTest reads them from golden/dcp/two-ranks):
    # the torch-made one and two hostile variants of ../../../golden/dcp (make them with its make_dcp.py).
    golden = os.path.join("..", "..", "..", "golden", "dcp")
    for name, path in (("two-ranks.metadata", os.path.join("two-ranks", ".metadata")),
                       ("overlap.metadata", os.path.join("hostile", "overlap.metadata")),
                       ("path-escape.metadata", os.path.join("hostile", "path-escape.metadata"))):
        with open(os.path.join(golden, path), "rb") as f:
            put("DcpFuzzTest", "dcp", name, f.read())
    # strided-ranks (chunks stored as strided views), its rank files renamed as DcpFuzzTest holds them.
    import pickle
    import torch  # noqa: F401 (the metadata's classes)
    with open(os.path.join(golden, "strided-ranks", ".metadata"), "rb") as f:
        m = pickle.load(f)
    for info in m.storage_data.values():
        info.relative_path = {"__0_0.distcp": "__2_0.distcp", "__1_0.distcp": "__3_0.distcp"}[info.relative_path]
    put("DcpFuzzTest", "dcp", "strided-ranks.metadata", pickle.dumps(m, protocol=4))


def dtensor_seeds():
    # Per-rank DTensor pickles made by ../../../golden/dtensor/make_dtensor_ranks.py: DTensorRanksFuzzTest mutates
    # rank 0's file of a 2-rank FSDP2 save (rank 1's stays fixed) and a hostile variant; the PyTorch target gets a
    # rank file of the 2x2 TP mesh (_StridedShard placements) to read on its own.
    golden = os.path.join("..", "..", "..", "golden", "dtensor")
    for folder, name in (("fsdp-2", "fsdp-2-rank-0.pt"), ("hostile/overlap", "overlap-rank-0.pt"),
                         ("hostile/shard-dim", "shard-dim-rank-0.pt")):
        with open(os.path.join(golden, folder, "model_world_size_2_rank_0.pt"), "rb") as f:
            put("DTensorRanksFuzzTest", "ranks", name, f.read())
    with open(os.path.join(golden, "tp-2x2", "model_world_size_4_rank_1.pt"), "rb") as f:
        put("PyTorchFuzzTest", "pytorch", "dtensor-tp-rank-1.pt", f.read())


def onnx_seeds():
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    w = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3), name="w")
    i = helper.make_tensor("i", TensorProto.INT64, [2], [1, -2])
    h = helper.make_tensor("h", TensorProto.FLOAT16, [2], [np.float16(1).view(np.uint16), 0])
    const = helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(np.ones(2, np.float32), "c"))
    graph = helper.make_graph([const], "g", [], [helper.make_tensor_value_info("c", TensorProto.FLOAT, [2])],
                              initializer=[w, i, h])
    put("OnnxFuzzTest", "onnx", "model.onnx", helper.make_model(graph).SerializeToString())


def gguf_seeds():
    import gguf
    path = "seed.gguf"
    w = gguf.GGUFWriter(path, "llama")
    w.add_uint32("answer", 42)
    w.add_string("name", "seed")
    w.add_array("list", [1, 2, 3])
    w.add_tensor("a", np.arange(6, dtype=np.float32).reshape(2, 3))
    w.add_tensor("b", np.ones(4, dtype=np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with open(path, "rb") as f:
        put("GgufFuzzTest", "gguf", "seed.gguf", f.read())
    os.remove(path)


def keras_seeds():
    import h5py
    path = "seed.h5"
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [b"dense"]
        f.attrs["keras_version"] = b"2.15.0"
        g = f.create_group("dense")
        g.attrs["weight_names"] = [b"dense/kernel:0", b"dense/bias:0"]
        g.create_dataset("dense/kernel:0", data=np.arange(6, dtype=np.float32).reshape(2, 3))
        g.create_dataset("dense/bias:0", data=np.zeros(3, dtype=">f4"))
        f.create_dataset("chunked", data=np.ones((4, 2), dtype=np.float16), chunks=(2, 2), compression="gzip")
    with open(path, "rb") as f:
        put("KerasFuzzTest", "keras", "seed.h5", f.read())
    os.remove(path)


def tf_seeds():
    src = os.path.join("..", "..", "..", "..", "..", "..", "..", "..", "shared", "fixtures", "reference",
                       "tf-savedmodel", "saved_model", "variables", "variables.index")
    with open(src, "rb") as f:
        put("TensorFlowFuzzTest", "tensorflow", "variables.index", f.read())


def proto_seeds():
    """Protobuf wire seeds: a hand-made message with every wire type, nesting and a packed field (field numbers
    chosen for the reads ProtoWalk gives them), and the ONNX seed model as a real message tree."""
    def varint(v):
        v &= (1 << 64) - 1
        out = bytearray()
        while v > 0x7f:
            out.append((v & 0x7f) | 0x80)
            v >>= 7
        out.append(v)
        return bytes(out)

    def tag(field, wire):
        return varint(field << 3 | wire)

    def ld(field, payload):
        return tag(field, 2) + varint(len(payload)) + payload

    inner = tag(2, 0) + varint(300) + ld(1, b"name") + ld(6, varint(1) + varint(-1) + varint(1 << 40))
    message = (tag(2, 0) + varint(-5) + tag(4, 5) + bytes(range(4)) + tag(6, 1) + bytes(range(8))
               + ld(8, inner + ld(4, tag(2, 0) + varint(7))) + tag(3, 0) + varint(1) + ld(7, b"skipped"))
    put("ProtoWireFuzzTest", "wire", "nested.bin", message)
    with open(os.path.join("OnnxFuzzTestInputs", "onnx", "model.onnx"), "rb") as f:
        put("ProtoWireFuzzTest", "wire", "model.onnx", f.read())


def dcp_hf_storage_seeds():
    """A piece file of DCP's Hugging Face storage, torch-made (../../../golden/dcp/make_dcp_hf_storage.py)."""
    src = os.path.join("..", "..", "..", "golden", "dcp", "hf-storage", "shard-00001-model-00001-of-00002.safetensors")
    with open(src, "rb") as f:
        put("DcpSafetensorsShardsFuzzTest", "pieces", "rank1-model1.safetensors", f.read())


if __name__ == "__main__":
    safetensors_seeds()
    for make in (torch_seeds, dcp_seeds, dtensor_seeds, dcp_hf_storage_seeds, onnx_seeds, gguf_seeds, keras_seeds, tf_seeds, proto_seeds):
        try:
            make()
        except (ImportError, OSError) as e:
            print("skipped", make.__name__, e)
