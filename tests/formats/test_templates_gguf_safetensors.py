"""End-to-end: safetensors, GGUF, chat templates (jinja) and JSON configs
through the CLI. Peer samples are compared with their manifest labels;
generated fixtures come from fixtures_fmtA (written, never loaded/rendered)."""
import json
import os
import struct
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures_fmtA as fx  # noqa: E402

CLI = os.environ.get("WEIGHTWALL")
SHARED = os.environ.get("WW_SHARED", "/work/shared")
PEER = os.path.join(SHARED, "peer-samples")

pytestmark = pytest.mark.skipif(not CLI or not os.path.exists(CLI), reason="CLI not built")


def scan(path):
    r = subprocess.run([CLI, "scan", str(path), "--format", "json"], capture_output=True, text=True)
    assert r.returncode in (0, 1, 2), r.stderr
    doc = json.loads(r.stdout)
    return r.returncode, doc["files"][0]


def mine(path):
    return ("/jinja2/" in path or "/safetensors/" in path or path.endswith(".gguf")
            or ("scenarios/" in path and path.endswith(".json")))


def manifest():
    with open(os.path.join(PEER, "manifest.json")) as f:
        return [e for e in json.load(f) if mine(e["path"])]


@pytest.mark.parametrize("entry", manifest(), ids=lambda e: e["path"])
def test_peer_sample(entry):
    rc, f = scan(os.path.join(PEER, entry["path"]))
    label = entry["label"]
    if label == "malicious":
        assert f["verdict"] == "unsafe" and rc == 1, f
        assert f["max_severity"] in ("HIGH", "CRITICAL"), f
    elif label == "benign":
        assert f["verdict"] == "clean" and rc == 0, f
    else:
        assert f["verdict"] != "clean", f


@pytest.mark.parametrize("name", sorted(fx.BENIGN_TEMPLATES))
@pytest.mark.parametrize("carrier", ["jinja", "json", "gguf"])
def test_benign_real_templates(tmp_path, name, carrier):
    text = fx.BENIGN_TEMPLATES[name]
    p = write_carrier(tmp_path, carrier, text)
    rc, f = scan(p)
    assert f["verdict"] == "clean" and f["max_severity"] is None, f
    assert f["code_capable"], f


@pytest.mark.parametrize("case", fx.MALICIOUS_TEMPLATES, ids=lambda c: c[0])
@pytest.mark.parametrize("carrier", ["jinja", "json", "gguf"])
def test_ssti_payloads(tmp_path, case, carrier):
    name, text, minsev = case
    order = ["LOW", "MEDIUM", "HIGH", "CRITICAL"]
    rc, f = scan(write_carrier(tmp_path, carrier, text))
    assert f["verdict"] == "unsafe", f
    assert order.index(f["max_severity"]) >= order.index(minsev), f
    assert all(x["kind"] == "template" for x in f["findings"] if x["severity"] != "NONE")


def write_carrier(tmp_path, carrier, text):
    if carrier == "jinja":
        p = tmp_path / "chat_template.jinja"
        p.write_text(text)
    elif carrier == "json":
        p = tmp_path / "tokenizer_config.json"
        p.write_text(json.dumps({"tokenizer_class": "X", "chat_template": text}))
    else:
        p = tmp_path / "model.gguf"
        p.write_bytes(fx.gguf_bytes([fx.gguf_template_kv(text)], [("w", [32], 0, 128)]))
    return p


def test_safetensors_valid_and_lies(tmp_path):
    good = fx.safetensors_bytes([("a", "F32", [4, 4], 64), ("b", "BF16", [8], 16)],
                                {"format": "pt"}, pad=6)
    p = tmp_path / "ok.safetensors"
    p.write_bytes(good)
    rc, f = scan(p)
    assert f["verdict"] == "clean" and not f["code_capable"]
    # The NONE note "safetensors cannot carry code" is checked in test_safetensors.c;
    # front ends may omit NONE findings.
    assert all(x["severity"] in ("NONE", "LOW") for x in f["findings"]), f
    bad = {
        "trailing": fx.safetensors_bytes([("a", "F32", [4], 16)], trailing=b"PK\x03\x04junk"),
        "wrongsize": fx.safetensors_bytes([("a", "F32", [5], 16)]),
        "dtype": fx.safetensors_bytes([("a", "F33", [4], 16)]),
        "hugelen": struct.pack("<Q", 2**63) + b"{}",
        "truncated": good[:-10],
    }
    for name, data in bad.items():
        p = tmp_path / (name + ".safetensors")
        p.write_bytes(data)
        rc, f = scan(p)
        assert f["verdict"] != "clean", (name, f)


def test_gguf_lies(tmp_path):
    cases = {
        "nkv": b"GGUF" + struct.pack("<IQQ", 3, 0, 2**63) + b"\0" * 64,
        "strlen": b"GGUF" + struct.pack("<IQQQ", 3, 0, 1, 2**63) + b"\0" * 32,
        "version": b"GGUF" + struct.pack("<IQQ", 7, 0, 0),
        "oob": fx.gguf_bytes([], [("w", [1024], 0, 4096)])[:-1000],
    }
    for name, data in cases.items():
        p = tmp_path / (name + ".gguf")
        p.write_bytes(data)
        rc, f = scan(p)
        assert f["verdict"] == "error" and rc == 2, (name, f)


def test_gguf_v1_v2_clean(tmp_path):
    for v in (1, 2, 3):
        p = tmp_path / ("v%d.gguf" % v)
        p.write_bytes(fx.gguf_bytes([("general.name", 8, fx.gguf_str("x", v == 1))],
                                    [("w", [8], 0, 32)], version=v))
        rc, f = scan(p)
        assert f["verdict"] == "clean" and f["format"] == "gguf", f


def test_auto_map_is_reported(tmp_path):
    p = tmp_path / "config.json"
    p.write_text(json.dumps({"model_type": "custom",
                             "auto_map": {"AutoModel": "modeling_custom.CustomModel",
                                          "AutoTokenizer": ["other/repo--tok.T", None]}}))
    rc, f = scan(p)
    hub = [x for x in f["findings"] if x["kind"] == "hub"]
    assert {x["module"] for x in hub} == {"modeling_custom", "other/repo--tok"}
    assert f["verdict"] == "unsafe"


def test_plain_json_and_text(tmp_path):
    p = tmp_path / "config.json"
    p.write_text(json.dumps({"hidden_size": 4096, "architectures": ["LlamaForCausalLM"]}))
    rc, f = scan(p)
    assert f["verdict"] == "clean" and not f["code_capable"]
    bad = tmp_path / "broken.json"
    bad.write_text('{"a": 1,')
    rc, f = scan(bad)
    assert f["verdict"] == "error"
