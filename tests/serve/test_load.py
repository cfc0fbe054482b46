"""Concurrent downloads: no corruption, and each blob is fetched from the upstream exactly once
however many clients ask for it at the same time."""

from __future__ import annotations

from conftest import parallel, sha256


def test_parallel_downloads_fetch_each_blob_once(gate, hub, fx):
    files = {"blob.safetensors": fx.medium, "model.safetensors": fx.benign["model.safetensors"],
             "config.json": fx.benign["config.json"]}
    names = ["blob.safetensors"] * 32 + ["model.safetensors"] * 8 + ["config.json"] * 8

    def one(name):
        body, meta = gate.hf_download("acme/load-model", name, timeout=60)
        return name, sha256(body), meta["etag"]
    results = parallel(one, [(n,) for n in names], threads=48)
    assert len(results) == len(names)
    for name, digest, etag in results:
        assert digest == sha256(files[name]), f"corrupted {name}"
    # exactly one full upstream fetch per blob (CDN for LFS files, the hub for small ones)
    for name, content in files.items():
        rf = hub.repos[("model", "acme/load-model")].files[name]
        if rf.lfs:
            got = [r for r in hub.requests(server="cdn", method="GET", contains=rf.sha256)
                   if not r["range"]]
        else:
            got = [r for r in hub.requests(server="hub", method="GET", contains="/resolve/")
                   if r["path"].endswith("/" + name) and "load-model" in r["path"]]
        assert len(got) == 1, f"{name}: {len(got)} upstream fetches: {got}"
    # and a second wave is served from the store alone
    hub.reset_log()
    parallel(one, [(n,) for n in names], threads=48)
    assert hub.requests(server="cdn") == []
    assert not [r for r in hub.requests(server="hub") if "/resolve/" in r["path"]]


def test_parallel_ranged_resumes(gate, fx):
    content = fx.medium

    def one(i):
        start = (i * 97531) % len(content)
        st, hd, body = gate.req("/acme/load-model/resolve/main/blob.safetensors",
                                headers={"Range": f"bytes={start}-"})
        assert st == 206, st
        return body == content[start:]
    assert all(parallel(one, [(i,) for i in range(40)], threads=40))
