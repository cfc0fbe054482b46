"""`weightwall scan --policy` and `weightwall policy input` over real scans.

The article's two Cloudsmith policies, copied verbatim into policies/, must
quarantine exactly the models they should when fed weightwall's own results."""
import json
import os
import struct
import subprocess

import pytest

ROOT = os.environ.get("WW_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
WW = os.environ.get("WEIGHTWALL", os.path.join(ROOT, "build", "cli", "weightwall"))
POL = os.path.join(ROOT, "policies")
SCAN_SUMMARY = os.path.join(POL, "cloudsmith-scan-summary.rego")
RISKY_EXT = os.path.join(POL, "cloudsmith-risky-extensions.rego")
CODE_FORMATS = os.path.join(POL, "weightwall-code-formats.rego")


def run(*args):
    p = subprocess.run([WW, *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def safetensors_bytes():
    data = b"\0" * 16
    hdr = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
    hdr += b" " * ((8 - len(hdr) % 8) % 8)
    return struct.pack("<Q", len(hdr)) + hdr + data


@pytest.fixture(scope="module")
def repos(tmp_path_factory):
    base = tmp_path_factory.mktemp("pol")
    safe = base / "safe"
    safe.mkdir()
    (safe / "model.safetensors").write_bytes(safetensors_bytes())
    (safe / "config.json").write_text('{"model_type": "bert"}')
    torch_ok = base / "torch_ok"
    torch_ok.mkdir()
    subprocess.run(["/usr/bin/python3", "-c",
                    "import torch,sys; torch.save({'w': torch.zeros(2)}, sys.argv[1])",
                    str(torch_ok / "pytorch_model.bin")], check=True)
    evil = base / "evil"
    evil.mkdir()
    # os.system via protocol 2 GLOBAL/REDUCE, written as bytes (never loaded)
    (evil / "pytorch_model.bin").write_bytes(b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.")
    disguised = base / "disguised"
    disguised.mkdir()
    # a benign pickle of plain data, named like a safe format
    (disguised / "model.safetensors").write_bytes(b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s.")
    broken = base / "broken"
    broken.mkdir()
    (broken / "model.safetensors").write_bytes(safetensors_bytes()[:-5])
    return {k: str(v) for k, v in dict(safe=safe, torch_ok=torch_ok, evil=evil,
                                        disguised=disguised, broken=broken).items()}


def test_article_policies_are_verbatim():
    seed_dir = os.path.join(os.environ.get("WW_SHARED", os.path.join(ROOT, "..", "shared")), "seed")
    seed = "".join(open(os.path.join(seed_dir, f)).read() for f in os.listdir(seed_dir))
    for p in (SCAN_SUMMARY, RISKY_EXT):
        body = open(p).read().strip()
        # every line of the shipped policy appears in the article, in order
        assert body.split("\n")[0] in seed and body.split("\n")[-1].rstrip() in seed


@pytest.mark.parametrize("repo,expect", [("safe", 0), ("torch_ok", 0), ("evil", 1), ("broken", 1)])
def test_scan_summary_policy(repos, repo, expect):
    rc, out, err = run("scan", "--policy", SCAN_SUMMARY, repos[repo])
    assert rc == expect, (out, err)
    assert ("REFUSED" in out) == (expect == 1), out


@pytest.mark.parametrize("repo,expect", [("safe", 0), ("torch_ok", 1), ("evil", 1)])
def test_risky_extension_policy(repos, repo, expect):
    rc, out, err = run("scan", "--policy", RISKY_EXT, repos[repo])
    assert rc == expect, (out, err)


def test_code_formats_policy_judges_content_not_names(repos):
    # the extension policy is fooled by the name; the content policy is not
    assert run("scan", "--policy", RISKY_EXT, repos["disguised"])[0] == 0
    rc, out, err = run("scan", "--policy", CODE_FORMATS, repos["disguised"])
    assert rc == 1, (out, err)
    assert run("scan", "--policy", CODE_FORMATS, repos["safe"])[0] == 0


def test_policy_decision_in_json_report(repos):
    rc, out, _ = run("scan", "--format", "json", "--policy", SCAN_SUMMARY, repos["evil"])
    assert rc == 1
    doc = json.loads(out)
    d = doc["policy"]["decisions"][0]
    assert doc["policy"]["query"] == "data.cloudsmith.match"
    assert d["match"] is True and d["version"] == "local"


def test_broken_policy_is_refusal_exit_2(repos, tmp_path):
    bad = tmp_path / "bad.rego"
    bad.write_text("package cloudsmith\nmatch if {\n")
    rc, out, err = run("scan", "--policy", str(bad), repos["safe"])
    assert rc == 2
    assert "bad.rego:" in err


def test_policy_input_document(repos):
    rc, out, _ = run("policy", "input", repos["broken"])
    doc = json.loads(out)
    v0 = doc["v0"]
    assert v0["package"]["format"] == "huggingface"
    assert v0["package"]["files"][0]["file_extension"] == ".safetensors"
    assert v0["model_security"] == {"availability": "INCOMPLETE", "scan_summary": "UNSAFE"}
    f = v0["weightwall"]["files"][0]
    assert f["verdict"] == "error" and "format" in f and "code_capable" in f
    rc, out, _ = run("policy", "input", repos["safe"])
    v0 = json.loads(out)["v0"]
    assert v0["model_security"] == {"availability": "COMPLETE", "scan_summary": "SAFE"}
    exts = sorted(f["file_extension"] for f in v0["package"]["files"])
    assert exts == [".json", ".safetensors"]
