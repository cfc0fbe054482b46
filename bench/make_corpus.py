#!/usr/bin/python3
"""Build the benchmark corpus (benign, real libraries; nothing is ever loaded).

  bench/_corpus/ckpt_1g.pt        torch.save of a ~1 GB state dict (zip format)
  bench/_corpus/ckpt_100m.pt      ~100 MB state dict
  bench/_corpus/legacy_100m.pt    ~100 MB legacy (non-zip) torch.save
  bench/_corpus/small/NNNN.pkl    thousands of small pickles (state dicts, sklearn-ish dicts)
  bench/_corpus/objects_100m.pkl  one ~100 MB pickle of many small objects
  bench/_corpus/model.npz, model.safetensors, model.gguf, model.onnx (one per format where a
                                  library exists here)
"""
import os, pickle, struct, sys, json

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "_corpus")
os.makedirs(os.path.join(out, "small"), exist_ok=True)

import numpy as np
import torch

def once(name, fn):
    p = os.path.join(out, name)
    if not os.path.exists(p):
        fn(p)
    return p

once("ckpt_1g.pt", lambda p: torch.save({f"layer{i}.weight": torch.zeros(64, 1024, 1024) for i in range(4)}, p))
once("ckpt_100m.pt", lambda p: torch.save({f"layer{i}.weight": torch.randn(256, 1024) for i in range(100)}, p))
once("legacy_100m.pt", lambda p: torch.save({f"layer{i}.weight": torch.randn(256, 1024) for i in range(100)}, p,
                                            _use_new_zipfile_serialization=False))

def many_objects(p):
    # ~100 MB of small dicts/lists/strings/floats: stresses the opcode loop.
    rows = [{"id": i, "name": "row%d" % i, "vals": [i * 0.5, i + 1, "x"], "flag": i % 2 == 0}
            for i in range(1_400_000)]
    with open(p, "wb") as f:
        pickle.dump(rows, f, protocol=4)
once("objects_100m.pkl", many_objects)

small = os.path.join(out, "small")
if len(os.listdir(small)) < 2000:
    for i in range(2000):
        obj = {"w%d" % k: torch.zeros(4, 4) for k in range(3)} if i % 4 == 0 else \
              {"step": i, "lr": 0.001, "betas": (0.9, 0.999), "names": ["a", "b", "c"]}
        if i % 4 == 0:
            torch.save(obj, os.path.join(small, "%04d.pt" % i))
        else:
            with open(os.path.join(small, "%04d.pkl" % i), "wb") as f:
                pickle.dump(obj, f, protocol=i % 6)

once("model.npz", lambda p: np.savez(p, a=np.zeros((512, 512), np.float32), b=np.arange(1000)))

def safetensors(p):
    a = np.zeros((1024, 1024), np.float32).tobytes()
    hdr = json.dumps({"w": {"dtype": "F32", "shape": [1024, 1024], "data_offsets": [0, len(a)]},
                      "__metadata__": {"format": "pt"}}).encode()
    hdr += b" " * ((8 - len(hdr) % 8) % 8)
    with open(p, "wb") as f:
        f.write(struct.pack("<Q", len(hdr)) + hdr + a)
once("model.safetensors", safetensors)

def gguf(p):
    def s(x):
        b = x.encode()
        return struct.pack("<Q", len(b)) + b
    kv = [("general.architecture", 8, s("llama")),
          ("tokenizer.chat_template", 8, s("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}"))]
    t = np.zeros(1024 * 1024, np.float32).tobytes()
    head = b"GGUF" + struct.pack("<IQQ", 3, 1, len(kv))
    for k, typ, v in kv:
        head += s(k) + struct.pack("<I", typ) + v
    head += s("w") + struct.pack("<I", 1) + struct.pack("<Q", 1024 * 1024) + struct.pack("<IQ", 0, 0)
    pad = (32 - len(head) % 32) % 32
    with open(p, "wb") as f:
        f.write(head + b"\0" * pad + t)
once("model.gguf", gguf)

try:
    import onnx
    from onnx import helper, TensorProto
    def mk(p):
        w = helper.make_tensor("W", TensorProto.FLOAT, [256, 256], np.zeros(256 * 256, np.float32).tobytes(), raw=True)
        g = helper.make_graph([helper.make_node("MatMul", ["X", "W"], ["Y"]), helper.make_node("Relu", ["Y"], ["Z"])],
                              "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 256])],
                              [helper.make_tensor_value_info("Z", TensorProto.FLOAT, [1, 256])], [w])
        onnx.save(helper.make_model(g), p)
    once("model.onnx", mk)
except ImportError:
    pass

try:
    import h5py
    def h5(p):
        with h5py.File(p, "w") as f:
            cfg = {"class_name": "Sequential", "config": {"name": "s", "layers": [
                {"class_name": "Dense", "config": {"name": "d", "units": 4}}]}}
            f.attrs["model_config"] = json.dumps(cfg)
            f.attrs["keras_version"] = "2.13.1"
            f.create_dataset("model_weights/d/kernel", data=np.zeros((256, 256), np.float32))
    once("model.h5", h5)
except ImportError:
    pass
print(out)
