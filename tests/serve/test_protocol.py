"""The gate speaks the Hub protocol (hf-protocol.md): resolve HEAD/GET with the header contract,
Range resume, EntryNotFound, the API proxy with Link rewriting, token forwarding, and clear
502/504 answers when the upstream fails."""

from __future__ import annotations

import json
import time

import pytest

from conftest import TOKEN, HFError, request, set_fault, sha256


def test_benign_repo_downloads_byte_for_byte(gate, hub, fx):
    repo = hub.repos[("model", "acme/tiny-model")]
    for name, content in fx.benign.items():
        body, meta = gate.hf_download("acme/tiny-model", name)
        assert sha256(body) == sha256(content), name
        assert meta["commit"] == repo.sha
        rf = repo.files[name]
        if rf.lfs:
            # LFS: answered 200 by the gate itself, etag = sha256 of the content
            assert meta["etag"] == sha256(content)
            assert meta["headers"]["x-linked-size"] == str(len(content))
            assert meta["headers"]["etag"].strip('"') == rf.git_oid
        else:
            assert meta["etag"] == rf.git_oid
        assert int(meta["headers"]["content-length"]) == len(content), "HEAD must send the size"
        assert "location" not in meta["headers"], "clients only ever talk to the gate"
    # the client never met the CDN, and nothing sent a token to it
    assert hub.cdn_auth_violations == 0


def test_revision_by_pr_ref_and_commit(gate, hub, fx):
    repo = hub.repos[("model", "acme/tiny-model")]
    body, meta = gate.hf_download("acme/tiny-model", "config.json", rev="refs/pr/1")
    assert meta["commit"] == repo.revisions["refs/pr/1"]
    assert body == fx.benign["config.json"]
    body, meta = gate.hf_download("acme/tiny-model", "config.json", rev=repo.sha)
    assert meta["commit"] == repo.sha


def test_range_resume_answers_206(gate, fx):
    content = fx.benign["model.safetensors"]
    part = content[:512]
    body, meta = gate.hf_download("acme/tiny-model", "model.safetensors", resume=part)
    assert body == content
    # a closed range and a suffix range
    st, hd, data = gate.req("/acme/tiny-model/resolve/main/model.safetensors",
                            headers={"Range": "bytes=10-19"})
    assert st == 206 and data == content[10:20]
    assert hd["content-range"] == f"bytes 10-19/{len(content)}"
    st, hd, data = gate.req("/acme/tiny-model/resolve/main/model.safetensors",
                            headers={"Range": "bytes=-7"})
    assert st == 206 and data == content[-7:]
    st, hd, data = gate.req("/acme/tiny-model/resolve/main/model.safetensors",
                            headers={"Range": f"bytes={len(content)}-"})
    assert st == 416 and hd["content-range"] == f"bytes */{len(content)}"


def test_absent_file_is_entry_not_found(gate, hub):
    repo = hub.repos[("model", "acme/tiny-model")]
    for method in ("HEAD", "GET"):
        st, hd, body = gate.req("/acme/tiny-model/resolve/main/generation_config.json", method)
        assert st == 404, (method, st, body)
        assert hd["x-error-code"] == "EntryNotFound"
        assert hd["x-repo-commit"] == repo.sha
    st, hd, _ = gate.req("/acme/no-such-repo/resolve/main/config.json", "HEAD")
    assert st in (401, 404) and hd.get("x-error-code") == "RepoNotFound"
    st, hd, _ = gate.req("/acme/tiny-model/resolve/no-such-branch/config.json", "HEAD")
    assert st == 404 and hd.get("x-error-code") == "RevisionNotFound"


def test_api_proxy_and_tree_pagination_stays_on_the_gate(gate, hub):
    st, hd, body = gate.req("/api/models/acme/tiny-model/revision/main")
    info = json.loads(body)
    assert st == 200 and info["sha"] == hub.repos[("model", "acme/tiny-model")].sha
    assert {s["rfilename"] for s in info["siblings"]} == set(
        hub.repos[("model", "acme/tiny-model")].files)
    # the paginated tree: every Link must point at the gate, and the pages add up
    url = gate.url + "/api/models/acme/paged-model/tree/main?recursive=True&expand=True"
    seen, pages = [], 0
    while url:
        st, hd, body = request(url)
        assert st == 200, body
        seen += [e["path"] for e in json.loads(body) if e["type"] == "file"]
        pages += 1
        link = hd.get("link")
        url = None
        if link:
            assert link.startswith("<" + gate.url + "/api/models/acme/paged-model/tree/"), link
            assert 'rel="next"' in link
            url = link[1:link.index(">")]
        assert pages < 20
    assert pages > 1
    assert sorted(seen) == sorted(hub.repos[("model", "acme/paged-model")].files)
    # downloads work for a repo whose model info has no siblings (tree fallback)
    body, _ = gate.hf_download("acme/paged-model", "weights/deep/model.safetensors")
    assert body == hub.repos[("model", "acme/paged-model")].files[
        "weights/deep/model.safetensors"].data


def test_token_goes_to_the_upstream_origin_only(gate, hub, fx):
    with pytest.raises(HFError) as ei:
        gate.hf_metadata("acme/private-model", "config.json")
    assert ei.value.status == 401 and ei.value.code == "RepoNotFound"
    hub.reset_log()
    body, _ = gate.hf_download("acme/private-model", "pytorch_model.bin", token=TOKEN)
    assert body == fx.benign["pytorch_model.bin"]
    hub_reqs = hub.requests(server="hub")
    assert hub_reqs and all(r["authorization"] == f"Bearer {TOKEN}" for r in hub_reqs)
    assert hub.cdn_auth_violations == 0
    assert all(r["authorization"] is None for r in hub.requests(server="cdn"))
    # a cached blob is not a bypass: without the token the repo stays closed
    with pytest.raises(HFError) as ei:
        gate.hf_download("acme/private-model", "pytorch_model.bin")
    assert ei.value.status == 401


def test_upstream_unreachable_is_502(make_gate):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                     # nothing listens there now
    g = make_gate(upstream=f"http://127.0.0.1:{port}", name="deadupstream")
    for method in ("HEAD", "GET"):
        st, hd, body = g.req("/acme/tiny-model/resolve/main/config.json", method)
        assert st == 502, (st, body)
        assert "upstream" in hd["x-error-message"]
    st, hd, body = g.req("/api/models/acme/tiny-model")
    assert st == 502 and b"upstream" in body


def test_upstream_5xx_is_502_and_stall_is_504(make_gate, hub):
    g = make_gate(extra=["--upstream-timeout", "1"], name="faulty")
    hub.faults["/api/models/acme/tiny-model/revision/main"] = {"status": 500}
    st, hd, body = g.req("/acme/tiny-model/resolve/main/config.json")
    assert st == 502 and "HTTP 500" in hd["x-error-message"]
    hub.faults.clear()
    hub.faults["/api/models/acme/evil-model/revision/main"] = {"sleep": 2.5}
    t0 = time.monotonic()
    st, hd, body = g.req("/acme/evil-model/resolve/main/config.json", "HEAD")
    assert st == 504, (st, hd)
    assert time.monotonic() - t0 < 10


def test_truncated_upstream_is_never_served_nor_stored(make_gate, hub, fx):
    import os
    g = make_gate(name="trunc")
    content = fx.benign["model.safetensors"]
    spec = set_fault(hub, "acme/flaky-model", "model.safetensors", {"truncate": 0.5})
    st, hd, body = g.req("/acme/flaky-model/resolve/main/model.safetensors")
    assert st == 502, (st, hd, body[:200])
    assert "broke off" in hd["x-error-message"] or "truncated" in hd["x-error-message"]
    assert content[:100] not in body
    assert spec["_used"] >= 1
    assert not os.path.exists(os.path.join(g.store, "blobs", sha256(content)))
    assert os.listdir(os.path.join(g.store, "tmp")) == []
    # nothing was decided from the broken download: once the upstream heals, it works
    hub.faults.clear()
    body, meta = g.hf_download("acme/flaky-model", "model.safetensors")
    assert body == content


def test_digest_mismatch_is_never_served_nor_stored(make_gate, hub, fx):
    import os
    g = make_gate(name="liar")
    st, hd, body = g.req("/acme/liar-model/resolve/main/model.safetensors")
    assert st == 502, (st, body[:200])
    assert "does not match" in hd["x-error-message"]
    assert not os.path.exists(os.path.join(g.store, "blobs", "ab" * 32))
    assert os.listdir(os.path.join(g.store, "tmp")) == []
