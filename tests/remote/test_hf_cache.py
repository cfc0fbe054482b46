"""`weightwall scan --hf-cache [DIR]`: the local Hugging Face cache, laid out exactly as
huggingface_hub writes it (hf-protocol.md §8): models--org--name/{blobs,refs,snapshots,.no_exist},
relative symlinks, shared blobs, datasets--…, .locks.

Contract: no DIR -> HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub; each blob is
scanned once; JSON per file has hf_cache {repo, repo_type, revision, refs}; a blob whose sha256
differs from its 64-hex name is a finding; dangling links and .incomplete blobs are findings or
errors, never a crash; a malicious blob -> exit 1.
"""

from __future__ import annotations

import os

import pytest

import hubfixtures as F

C1 = F.commit_id("tiny", "old")
C2 = F.commit_id("tiny", "main")
D1 = F.commit_id("ds", "main")
E1 = F.commit_id("evil", "main")


@pytest.fixture(scope="module")
def content():
    b = F.benign_repo_files()
    return {"benign": b, "evil_bin": F.malicious_checkpoint("posix_system"),
            "other_bin": F.torch_save_bytes({"x": __import__("torch").ones(300)})}


def build_benign(cache, c):
    """acme/tiny-model with two snapshots sharing blobs, a subdir link, .no_exist; a dataset."""
    b = c["benign"]
    r = F.CacheRepo(cache, "acme/tiny-model")
    bin_blob = r.blob(b["pytorch_model.bin"])
    cfg_blob = r.blob(b["config.json"])
    for commit in (C1, C2):
        r.link(commit, "pytorch_model.bin", bin_blob)
        r.link(commit, "config.json", cfg_blob)
    r.add(C2, "onnx/model.safetensors", b["model.safetensors"])
    r.add(C2, "tokenizer_config.json", b["tokenizer_config.json"])
    r.ref("main", C2)
    r.no_exist(C2, "model.safetensors")
    r.no_exist(C1, "model.safetensors")
    d = F.CacheRepo(cache, "acme/ds", "dataset")
    d.add(D1, "data/weights.safetensors", b["model.safetensors"])
    d.add(D1, "README.md", b"# ds\n")
    d.ref("main", D1)
    return {"bin_blob": os.path.join(r.dir, "blobs", bin_blob), "repo_dir": r.dir}


def build_evil(cache, c):
    r = F.CacheRepo(cache, "evil/model")
    r.add(E1, "pytorch_model.bin", c["evil_bin"])
    r.add(E1, "config.json", c["benign"]["config.json"])
    r.ref("main", E1)
    return r


def results_for(res, pred):
    return [f for f in res.files() if pred(f)]


def by_snapshot_path(res, repo_dir, rel):
    """Results whose path (snapshot link or blob) is this repo file."""
    want = os.path.realpath(os.path.join(repo_dir, "snapshots", C2, rel))
    return [f for f in res.files() if os.path.realpath(f["path"]) == want
            or f["path"].endswith("/" + rel)]


# ------------------------------------------------------------------------------------------

def test_benign_cache_clean(tmp_path, content, ww_local):
    cache = tmp_path / "hub"
    info = build_benign(str(cache), content)
    r = ww_local("scan", "--format", "json", "--hf-cache", cache)
    assert r.rc == 0, str(r)
    assert all(f["verdict"] in ("clean",) for f in r.files()), str(r)
    # the blob shared by two snapshots is scanned once
    shared = [f for f in r.files() if os.path.realpath(f["path"]) == info["bin_blob"]]
    assert len(shared) == 1, f"shared blob scanned {len(shared)} times\n{r}"
    # nothing from .no_exist / .locks / refs is reported as a model file
    for f in r.files():
        assert "/.no_exist/" not in f["path"] and "/.locks/" not in f["path"], str(r)


def test_hf_cache_metadata(tmp_path, content, ww_local):
    cache = tmp_path / "hub"
    info = build_benign(str(cache), content)
    r = ww_local("scan", "--format", "json", "--hf-cache", cache)
    assert r.rc == 0, str(r)
    hits = by_snapshot_path(r, info["repo_dir"], "onnx/model.safetensors")
    assert len(hits) == 1, str(r)
    meta = hits[0].get("hf_cache")
    assert isinstance(meta, dict), str(r)
    assert (meta.get("repo"), meta.get("repo_type"), meta.get("revision"), meta.get("refs")) == \
        ("acme/tiny-model", "model", C2, ["main"]), f"hf_cache block: {meta}\n{r}"
    ds = [f for f in r.files() if f["path"].endswith("data/weights.safetensors")]
    assert len(ds) == 1, str(r)
    dm = ds[0].get("hf_cache") or {}
    assert dm.get("repo") == "acme/ds" and dm.get("repo_type") == "dataset", str(r)
    assert dm.get("revision") == D1 and dm.get("refs") == ["main"], str(r)
    shared = [f for f in r.files() if os.path.realpath(f["path"]) == info["bin_blob"]]
    assert shared and shared[0]["hf_cache"]["revision"] in (C1, C2), str(r)
    assert shared[0]["hf_cache"]["repo"] == "acme/tiny-model"


def test_malicious_blob_exit_1(tmp_path, content, ww_local):
    cache = tmp_path / "hub"
    build_benign(str(cache), content)
    build_evil(str(cache), content)
    r = ww_local("scan", "--format", "json", "--hf-cache", cache)
    assert r.rc == 1, str(r)
    bad = [f for f in r.files() if f["verdict"] == "unsafe"]
    assert len(bad) == 1, str(r)
    f = bad[0]
    assert f["hf_cache"]["repo"] == "evil/model" and f["hf_cache"]["revision"] == E1, str(r)
    assert any(x["severity"] == "CRITICAL" and x["module"] in ("posix", "os")
               and x["name"] == "system" for x in f["findings"]), str(r)


def test_text_output_and_equals_form(tmp_path, content, ww_local):
    cache = tmp_path / "hub"
    build_evil(str(cache), content)
    r = ww_local("scan", f"--hf-cache={cache}")
    assert r.rc == 1, str(r)
    assert "CRITICAL" in r.out and "system" in r.out, str(r)


def test_tampered_blob_is_reported(tmp_path, content, ww_local):
    """A blob named by the sha256 of other content (both benign): tampering is a finding."""
    cache = tmp_path / "hub"
    r0 = F.CacheRepo(str(cache), "acme/tampered")
    real = content["benign"]["pytorch_model.bin"]
    name = F.sha256_hex(content["other_bin"])          # name claims other content
    r0.blob(real, name=name)
    r0.link(C2, "pytorch_model.bin", name)
    r0.ref("main", C2)
    r = ww_local("scan", "--format", "json", "--hf-cache", cache)
    assert r.rc != 0, f"a tampered blob must not pass as clean\n{r}"
    hits = [f for f in r.files() if os.path.basename(os.path.realpath(f["path"])) == name
            or f["path"].endswith("pytorch_model.bin")]
    assert len(hits) == 1, str(r)
    f = hits[0]
    assert f["verdict"] != "clean", str(r)
    assert f["findings"], f"tampering should be a finding\n{r}"
    assert f["hf_cache"]["repo"] == "acme/tampered"


def test_untampered_lfs_blob_is_not_flagged(tmp_path, content, ww_local):
    cache = tmp_path / "hub"
    r0 = F.CacheRepo(str(cache), "acme/ok")
    r0.add(C2, "pytorch_model.bin", content["other_bin"])   # named by its real sha256
    r0.ref("main", C2)
    r = ww_local("scan", "--format", "json", "--hf-cache", cache)
    assert r.rc == 0, str(r)


def test_dangling_link_no_crash(tmp_path, content, ww_local):
    cache = tmp_path / "hub"
    build_benign(str(cache), content)
    r0 = F.CacheRepo(str(cache), "acme/partial")
    r0.add(C2, "config.json", content["benign"]["config.json"])
    missing = "f" * 64
    r0.link(C2, "pytorch_model.bin", missing)               # blob never downloaded
    r0.ref("main", C2)
    r = ww_local("scan", "--format", "json", "--hf-cache", cache)
    assert r.rc in (1, 2), f"a dangling link is a finding or an error\n{r}"
    hits = [f for f in r.files() if "acme--partial" in f["path"] and
            (f["path"].endswith("pytorch_model.bin") or missing in f["path"])]
    assert len(hits) == 1, f"the dangling link must be reported\n{r}"
    assert hits[0]["verdict"] != "clean", str(r)


def test_incomplete_blob_no_crash(tmp_path, content, ww_local):
    cache = tmp_path / "hub"
    build_benign(str(cache), content)
    r0 = F.CacheRepo(str(cache), "acme/downloading")
    r0.add(C2, "config.json", content["benign"]["config.json"])
    etag = F.sha256_hex(content["evil_bin"])
    with open(os.path.join(r0.dir, "blobs", etag + ".incomplete"), "wb") as fh:
        fh.write(content["evil_bin"][:700])                   # half-downloaded
    r0.ref("main", C2)
    r = ww_local("scan", "--format", "json", "--hf-cache", cache)
    assert r.rc in (1, 2), f".incomplete must be a finding or an error\n{r}"
    assert ".incomplete" in r.out, f".incomplete blob not reported\n{r}"
    for f in r.files():
        if ".incomplete" in f["path"]:
            assert f["verdict"] != "clean", str(r)


# ------------------------------------------------------------------------------------------
# default location

def test_default_uses_hf_hub_cache(tmp_path, content, ww_local):
    evil = tmp_path / "evilcache"
    build_evil(str(evil), content)
    benign_home = tmp_path / "hfhome"
    build_benign(str(benign_home / "hub"), content)
    r = ww_local("scan", "--format", "json", "--hf-cache",
                 HF_HUB_CACHE=str(evil), HF_HOME=str(benign_home))
    assert r.rc == 1, str(r)
    assert any(f.get("hf_cache", {}).get("repo") == "evil/model" for f in r.files()), str(r)


def test_default_uses_hf_home(tmp_path, content, ww_local):
    home = tmp_path / "hfhome"
    build_evil(str(home / "hub"), content)
    r = ww_local("scan", "--format", "json", "--hf-cache", HF_HUB_CACHE=None, HF_HOME=str(home))
    assert r.rc == 1, str(r)
    assert any(f.get("hf_cache", {}).get("repo") == "evil/model" for f in r.files()), str(r)


def test_hf_hub_cache_beats_hf_home(tmp_path, content, ww_local):
    benign = tmp_path / "benigncache"
    build_benign(str(benign), content)
    home = tmp_path / "hfhome"
    build_evil(str(home / "hub"), content)
    r = ww_local("scan", "--format", "json", "--hf-cache",
                 HF_HUB_CACHE=str(benign), HF_HOME=str(home))
    assert r.rc == 0, str(r)
    assert r.files(), str(r)


def test_default_uses_home_cache(tmp_path, content, ww_local):
    home = tmp_path / "userhome"
    build_evil(str(home / ".cache" / "huggingface" / "hub"), content)
    r = ww_local("scan", "--format", "json", "--hf-cache", home=home,
                 HF_HUB_CACHE=None, HF_HOME=None)
    assert r.rc == 1, str(r)
    assert any(f.get("hf_cache", {}).get("repo") == "evil/model" for f in r.files()), str(r)


def test_hf_cache_never_touches_network(tmp_path, content, ww_local, hub):
    cache = tmp_path / "hub"
    build_benign(str(cache), content)
    r = ww_local("scan", "--format", "json", "--hf-cache", cache, HF_ENDPOINT=hub.url)
    assert r.rc == 0, str(r)
    assert hub.requests() == []
