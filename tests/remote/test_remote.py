"""Remote scanning: `weightwall scan URL`, `hf://…`, `--huggingface`, against a loopback hub.

Contract under test (exit codes 0 clean / 1 unsafe / 2 error):
* URLs are scanned with HTTP Range requests (a torch zip costs its directory + pickle members);
  a whole download happens only when the server refuses ranges.
* hf:// and --huggingface list files via the model-info API (tree fallback, paginated), resolve
  each file, follow the LFS redirect and drop Authorization on the CDN host.
* JSON per file: path (the resolve URL), bytes_read, remote {url, repo, revision, commit}.
* Every network failure ends as exit 2 / verdict "error" with a message naming the URL:
  never a false clean.
"""

from __future__ import annotations

import time

import re

import pytest

from conftest import BIG_NUMEL, GATED_MESSAGE, TOKEN

HEX40 = re.compile(r"^[0-9a-f]{40}$")
ONE_MB = 1 << 20


# ------------------------------------------------------------------------------------------
# helpers

def critical_import(fobj, modules, name):
    return [f for f in fobj.get("findings", [])
            if f.get("severity") == "CRITICAL" and f.get("module") in modules
            and f.get("name") == name]


def assert_clean(r, suffix):
    f = r.file(suffix)
    assert f["verdict"] == "clean", f"{suffix} should be clean\n{r}"
    assert f["findings"] == [] or all(x["severity"] in ("LOW", "NONE") for x in f["findings"]), str(r)
    return f


def assert_posix_system(r, suffix):
    f = r.file(suffix)
    assert f["verdict"] == "unsafe", str(r)
    assert f["max_severity"] == "CRITICAL", str(r)
    hits = critical_import(f, ("posix", "os", "nt"), "system")
    assert hits, f"no CRITICAL posix.system finding\n{r}"
    assert any((h.get("member") or "").endswith("data.pkl") for h in hits), str(r)
    return f


def assert_builtins_eval(r, suffix):
    f = r.file(suffix)
    assert f["verdict"] == "unsafe", str(r)
    assert f["max_severity"] == "CRITICAL", str(r)
    hits = critical_import(f, ("builtins",), "eval")
    assert hits, f"`__builtin__ eval` must be reported as CRITICAL builtins eval\n{r}"
    assert any((h.get("member") or "").endswith("archive/data.pkl") for h in hits), str(r)
    return f


def assert_failed_not_clean(r, what):
    """A failed fetch: exit 2, never a clean verdict, a message naming `what`."""
    assert r.rc == 2, f"expected exit 2 (error)\n{r}"
    try:
        files = r.files()
    except AssertionError:
        files = []
    for f in files:
        assert f.get("verdict") != "clean" or not f.get("path", "").endswith("pytorch_model.bin"), \
            f"false clean for a file that could not be fetched\n{r}"
    assert what in r.text, f"error message should name {what!r}\n{r}"


def set_fault(hub, repo, path, spec, repo_type="model"):
    """Inject `spec` for one repo file whatever revision the client resolves it by (the branch
    name or the commit): the same dict is registered under every resolve path, so "times" is
    shared. Returns the dict (its "_used" counts the faulted requests)."""
    r = hub.repos[(repo_type, repo)]
    for rev in ["main"] + sorted(set(r.revisions.values())):
        hub.faults[hub.resolve_path(repo, path, rev, repo_type)] = spec
    return spec


def file_requests(hub, repo, path, rev="main"):
    """All hub + CDN requests that fetched (part of) one repo file."""
    r = hub.repos[("model", repo)]
    rps = {hub.resolve_path(repo, path, x) for x in [rev] + list(r.revisions.values())}
    fname = "file=" + path.replace("/", "%2F")
    return [e for e in hub.requests()
            if e["path"].split("?")[0] in rps
            or (e["server"] == "cdn" and fname in e["path"] and repo.replace("/", "%2F") in e["path"])]


def remote_ok(f, hub, repo, rev="main", commit=None):
    rem = f.get("remote")
    assert isinstance(rem, dict), f"missing remote block: {f}"
    assert rem.get("repo") == repo, rem
    assert rem.get("revision") == rev, rem
    assert HEX40.match(rem.get("commit") or ""), rem
    expected = commit or hub.repos[("model", repo)].revisions[rev]
    assert rem["commit"] == expected, rem
    assert rem.get("url", "").startswith(hub.url), rem


# ------------------------------------------------------------------------------------------
# fixture sanity (the fixtures themselves are what we say they are)

def test_fixture_sanity(fx, tmp_path):
    import pickletools
    import zipfile
    import io

    import torch
    import hubfixtures as F

    # the hand-written pickle is byte-identical to torch's for the same shape
    buf = io.BytesIO()
    torch.save({"weight": torch.zeros(3)}, buf)
    assert zipfile.ZipFile(buf).read("archive/data.pkl") == F.torch_data_pkl(3)
    # the hand-written zip writer makes a checkpoint torch loads (benign, built here)
    small = tmp_path / "small.bin"
    F.write_sparse_torch_zip(small, 5)
    assert zipfile.ZipFile(small).testzip() is None
    assert torch.equal(torch.load(small)["weight"], torch.zeros(5))
    # the big one: 1 GiB data member, sparse on disk
    z = zipfile.ZipFile(fx.big_path)
    sizes = {i.filename: i.file_size for i in z.infolist()}
    assert sizes["archive/data/0"] == BIG_NUMEL * 4
    assert fx.big_path.stat().st_size == fx.big_size > 1 << 30
    # malicious members carry their payload (decoded, never loaded)
    for blob, want in ((fx.evil_bin, "posix system"), (fx.eval_bin, "__builtin__ eval")):
        pkl = zipfile.ZipFile(io.BytesIO(blob)).read("archive/data.pkl")
        globs = [a for op, a, _ in pickletools.genops(pkl) if op.name == "GLOBAL"]
        assert want in globs


def test_hub_server_contract(hub):
    """The fake hub answers per hf-protocol.md §2 (so failures below are the client's)."""
    import http.client
    import urllib.parse

    u = urllib.parse.urlsplit(hub.url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    c.request("HEAD", hub.resolve_path("acme/tiny-model", "pytorch_model.bin"))
    r = c.getresponse()
    r.read()
    assert r.status == 302
    assert HEX40.match(r.getheader("X-Repo-Commit"))
    assert len(r.getheader("X-Linked-Etag").strip('"')) == 64
    assert int(r.getheader("X-Linked-Size")) == len(hub.fx.benign["pytorch_model.bin"])
    loc = r.getheader("Location")
    assert loc.startswith(hub.cdn_url + "/")
    c.request("HEAD", hub.resolve_path("acme/tiny-model", "config.json"))
    r = c.getresponse()
    r.read()
    assert r.status == 200 and int(r.getheader("Content-Length")) == len(hub.fx.benign["config.json"])
    lu = urllib.parse.urlsplit(loc)
    assert (lu.hostname, lu.port) != (u.hostname, u.port)
    c2 = http.client.HTTPConnection(lu.hostname, lu.port, timeout=5)
    c2.request("GET", lu.path + "?" + lu.query, headers={"Range": "bytes=-22"})
    r = c2.getresponse()
    body = r.read()
    assert r.status == 206 and len(body) == 22
    assert body == hub.fx.benign["pytorch_model.bin"][-22:]
    c2.request("GET", lu.path + "?" + lu.query, headers={"Authorization": "Bearer x"})
    r = c2.getresponse()
    r.read()
    assert r.status == 400
    c.close()
    c2.close()


# ------------------------------------------------------------------------------------------
# plain URLs

def test_url_benign_checkpoint_clean(hub, ww):
    url = hub.resolve_url("acme/tiny-model", "pytorch_model.bin")
    r = ww("scan", "--format", "json", url)
    assert r.rc == 0, str(r)
    f = assert_clean(r, "pytorch_model.bin")
    assert f["path"] == url, str(r)
    assert f["bytes_read"] > 0


def test_url_benign_safetensors_clean(hub, ww):
    url = hub.resolve_url("acme/tiny-model", "model.safetensors")
    r = ww("scan", "--format", "json", url)
    assert r.rc == 0, str(r)
    assert_clean(r, "model.safetensors")


def test_url_malicious_checkpoint_unsafe(hub, ww):
    url = hub.resolve_url("acme/evil-model", "pytorch_model.bin")
    r = ww("scan", "--format", "json", url)
    assert r.rc == 1, str(r)
    f = assert_posix_system(r, "pytorch_model.bin")
    assert f["path"] == url


def test_url_malicious_text_names_member(hub, ww):
    url = hub.resolve_url("acme/evil-model", "pytorch_model.bin")
    r = ww("scan", url)
    assert r.rc == 1, str(r)
    assert f"{url}:archive/data.pkl" in r.out, str(r)
    assert "CRITICAL" in r.out and "system" in r.out, str(r)


def test_url_uses_ranges_and_follows_cdn_redirect(hub, ww):
    url = hub.resolve_url("acme/evil-model", "pytorch_model.bin")
    r = ww("scan", "--format", "json", url)
    assert r.rc == 1, str(r)
    cdn = hub.requests(server="cdn", method="GET")
    assert cdn, "the 302 to the CDN host was not followed"
    assert all(e["status"] in (200, 206) for e in cdn), cdn
    assert any(e["range"] for e in cdn), f"no Range request was made: {cdn}"


def test_url_1gb_checkpoint_is_read_by_ranges(hub, ww):
    url = hub.resolve_url("acme/big-model", "pytorch_model.bin")
    r = ww("scan", "--format", "json", url, timeout=60)
    assert r.rc == 0, str(r)
    f = assert_clean(r, "pytorch_model.bin")
    assert f["size"] == hub.fx.big_size, str(r)
    assert f["bytes_read"] < ONE_MB, f"bytes_read {f['bytes_read']} for a 1 GB checkpoint\n{r}"
    sent = sum(e["bytes_sent"] for e in file_requests(hub, "acme/big-model", "pytorch_model.bin"))
    assert sent < ONE_MB, f"server sent {sent} bytes for a 1 GB checkpoint: {hub.requests()}"
    assert r.elapsed < 20


def findings_of(r, suffix):
    f = r.file(suffix)
    return f["verdict"], sorted((x["module"], x["name"]) for x in f["findings"] if x["module"])


@pytest.mark.parametrize("ranges", [True, False])
def test_remote_bytes_are_parsed_in_the_sandbox(hub, ww, ranges):
    """The parent fetches; the confined child parses. A child that tries a
    forbidden syscall is killed (an error, never clean), which proves the
    remote file went through it, and the sandboxed verdict equals the
    in-process one whether the server honours ranges or not."""
    hub.ranges_enabled = ranges
    url = hub.resolve_url("acme/evil-model", "pytorch_model.bin")
    r = ww("scan", "--format", "json", "--sandbox-selftest", "socket", url)
    assert r.rc == 2, str(r)
    f = r.file("pytorch_model.bin")
    assert f["verdict"] == "error" and "seccomp" in f["error"], str(r)
    a = ww("scan", "--format", "json", url)
    b = ww("scan", "--format", "json", "--no-sandbox", url)
    assert a.rc == b.rc == 1, f"{a}\n{b}"
    assert findings_of(a, "pytorch_model.bin") == findings_of(b, "pytorch_model.bin")


def test_ranged_read_failing_mid_scan_is_an_error(hub, ww):
    """The first chunk arrives, a later Range request fails: the child's read
    fails through the broker and the file is an error naming the network."""
    rp = hub.resolve_path("acme/big-model", "pytorch_model.bin")
    url = hub.url + rp
    hub.faults["/cdn/" + hub.fx.big_sha] = {"status": 503, "skip": 1, "methods": ["GET"], "times": None}
    r = ww("scan", "--format", "json", "--retries", "0", url, timeout=60)
    assert r.rc == 2, str(r)
    f = r.file("pytorch_model.bin")
    assert f["verdict"] == "error" and f["status"] == "network", str(r)
    assert "ranged read" in r.out, str(r)


@pytest.mark.parametrize("repo,check", [("acme/tiny-model", "clean"),
                                         ("acme/evil-model", "unsafe")])
def test_url_range_refused_falls_back_to_full_download(hub, ww, repo, check):
    hub.ranges_enabled = False
    url = hub.resolve_url(repo, "pytorch_model.bin")
    r = ww("scan", "--format", "json", url)
    if check == "clean":
        assert r.rc == 0, str(r)
        assert_clean(r, "pytorch_model.bin")
    else:
        assert r.rc == 1, str(r)
        assert_posix_system(r, "pytorch_model.bin")
    size = len(hub.fx.benign["pytorch_model.bin"] if check == "clean" else hub.fx.evil_bin)
    # The server records bytes_sent after its last write, which can land a
    # moment after the client (already satisfied) has exited: wait for it.
    deadline = time.time() + 5
    while True:
        full = [e for e in hub.requests(server="cdn", method="GET")
                if e["status"] == 200 and e["bytes_sent"] == size]
        if full or time.time() > deadline:
            break
        time.sleep(0.05)
    assert full, f"no complete 200 download: {hub.requests()}"


def test_url_small_file_on_hub_host(hub, ww):
    """A non-LFS file is served by the hub itself (200/206, no redirect)."""
    url = hub.resolve_url("acme/evil-dataset", "data/train.pkl", repo_type="dataset")
    r = ww("scan", "--format", "json", url)
    assert r.rc == 1, str(r)
    f = r.file("data/train.pkl")
    assert critical_import(f, ("posix", "os"), "system"), str(r)


def test_url_missing_file_is_error(hub, ww):
    url = hub.resolve_url("acme/tiny-model", "nope.bin")
    r = ww("scan", "--format", "json", url)
    assert_failed_not_clean(r, url)


# ------------------------------------------------------------------------------------------
# hf:// and --huggingface

def test_hf_benign_repo_clean(hub, ww):
    r = ww("scan", "--format", "json", "hf://acme/tiny-model")
    assert r.rc == 0, str(r)
    commit = hub.commits["acme/tiny-model"]
    for name in ("pytorch_model.bin", "model.safetensors"):
        f = assert_clean(r, "/" + name)
        assert f["path"] in (hub.resolve_url("acme/tiny-model", name),
                             hub.resolve_url("acme/tiny-model", name, rev=commit)), f["path"]
        remote_ok(f, hub, "acme/tiny-model")
        assert f["bytes_read"] > 0
    for f in r.files():
        assert f["verdict"] != "error", str(r)


def test_hf_malicious_repo_unsafe(hub, ww):
    r = ww("scan", "--format", "json", "hf://acme/evil-model")
    assert r.rc == 1, str(r)
    f = assert_posix_system(r, "/pytorch_model.bin")
    remote_ok(f, hub, "acme/evil-model")
    cfg = r.file("/config.json")
    assert cfg["verdict"] != "unsafe"


def test_hf_revision_and_commit(hub, ww):
    r = ww("scan", "--format", "json", "hf://acme/tiny-model@v1")
    assert r.rc == 0, str(r)
    f = assert_clean(r, "/pytorch_model.bin")
    remote_ok(f, hub, "acme/tiny-model", rev="v1")


def test_hf_revision_with_slash_is_percent_encoded(hub, ww):
    r = ww("scan", "--format", "json", "hf://acme/tiny-model@refs/pr/1")
    assert r.rc == 0, str(r)
    f = assert_clean(r, "/pytorch_model.bin")
    remote_ok(f, hub, "acme/tiny-model", rev="refs/pr/1")


def test_huggingface_flag_ykilcher(hub, ww):
    """Article command 1: `weightwall scan --huggingface ykilcher/totally-harmless-model`."""
    r = ww("scan", "--format", "json", "--huggingface", "ykilcher/totally-harmless-model")
    assert r.rc == 1, str(r)
    f = assert_builtins_eval(r, "/pytorch_model.bin")
    remote_ok(f, hub, "ykilcher/totally-harmless-model")


def test_huggingface_flag_text_output(hub, ww):
    r = ww("scan", "--huggingface", "ykilcher/totally-harmless-model")
    assert r.rc == 1, str(r)
    assert re.search(r"pytorch_model\.bin:archive/data\.pkl: CRITICAL .*builtins.*eval", r.out), str(r)


def test_article_tiny_distilbert_url_clean(hub, ww):
    """Article command 2: scan URL/resolve/main/pytorch_model.bin of a tiny distilbert."""
    url = f"{hub.url}/sshleifer/tiny-distilbert-base-cased/resolve/main/pytorch_model.bin"
    r = ww("scan", url)
    assert r.rc == 0, str(r)
    assert "Unsafe files: 0" in r.out and "Errors: 0" in r.out, str(r)


def test_hf_1gb_checkpoint_bytes(hub, ww):
    r = ww("scan", "--format", "json", "hf://acme/big-model", timeout=60)
    assert r.rc == 0, str(r)
    f = assert_clean(r, "/pytorch_model.bin")
    assert f["bytes_read"] < ONE_MB, str(r)
    sent = sum(e["bytes_sent"] for e in file_requests(hub, "acme/big-model", "pytorch_model.bin"))
    assert sent < ONE_MB, f"server sent {sent} bytes: {hub.requests()}"
    assert hub.bytes_sent() < ONE_MB


def test_hf_endpoint_trailing_slash(hub, ww):
    r = ww("scan", "--format", "json", "hf://acme/evil-model", endpoint=hub.url + "/")
    assert r.rc == 1, str(r)
    assert_posix_system(r, "/pytorch_model.bin")


def test_hf_tree_fallback_paginated(hub, ww):
    """No siblings in the model info: the tree listing is used and every page followed."""
    r = ww("scan", "--format", "json", "hf://acme/paged-model")
    assert r.rc == 1, str(r)
    assert_posix_system(r, "weights/deep/pytorch_model.bin")
    tree = [e for e in hub.requests(server="hub", method="GET") if "/tree/" in e["path"]]
    assert len(tree) >= 2, f"tree pages not followed: {[e['path'] for e in tree]}"
    assert any("cursor=" in e["path"] for e in tree), [e["path"] for e in tree]


def test_hf_tree_fallback_benign(hub, ww):
    hub.page_size = 1
    r = ww("scan", "--format", "json", "hf://acme/paged-benign")
    assert r.rc == 0, str(r)
    assert_clean(r, "weights/deep/pytorch_model.bin")
    assert len([e for e in hub.requests() if "/tree/" in e["path"]]) >= 4


def test_hf_dataset_repo(hub, ww):
    r = ww("scan", "--format", "json", "hf://datasets/acme/evil-dataset")
    assert r.rc == 1, str(r)
    f = r.file("data/train.pkl")
    assert f["verdict"] == "unsafe"
    assert critical_import(f, ("posix", "os"), "system"), str(r)
    assert f["path"].startswith(f"{hub.url}/datasets/acme/evil-dataset/resolve/"), f["path"]
    assert any(e["path"].startswith("/api/datasets/acme/evil-dataset") for e in hub.requests())
    assert not any(e["path"].startswith("/api/models/") for e in hub.requests())


def test_hf_benign_dataset(hub, ww):
    r = ww("scan", "--format", "json", "hf://datasets/acme/benign-dataset")
    assert r.rc == 0, str(r)
    assert_clean(r, "data/model.safetensors")


# ------------------------------------------------------------------------------------------
# auth

def test_token_sent_to_hub_dropped_on_cdn(hub, ww):
    r = ww("scan", "--format", "json", "hf://acme/private-model", token=TOKEN)
    assert r.rc == 0, str(r)
    assert_clean(r, "/pytorch_model.bin")
    hub_reqs = hub.requests(server="hub")
    cdn_reqs = hub.requests(server="cdn")
    assert hub_reqs and cdn_reqs, hub.requests()
    assert all(e["authorization"] == f"Bearer {TOKEN}" for e in hub_reqs), hub_reqs
    assert all(e["authorization"] is None for e in cdn_reqs), cdn_reqs
    assert hub.cdn_auth_violations == 0


def test_token_dropped_on_cdn_for_public_repo(hub, ww):
    r = ww("scan", "--format", "json", "hf://acme/evil-model", token=TOKEN)
    assert r.rc == 1, str(r)
    assert_posix_system(r, "/pytorch_model.bin")
    assert hub.cdn_auth_violations == 0
    assert hub.requests(server="cdn")


@pytest.mark.parametrize("token", [None, "hf_wrong"])
def test_private_repo_without_valid_token(hub, ww, token):
    r = ww("scan", "--format", "json", "hf://acme/private-model", token=token)
    assert r.rc == 2, str(r)
    assert "acme/private-model" in r.text, str(r)
    assert re.search(r"not found", r.text, re.I), str(r)
    try:
        assert all(f["verdict"] != "clean" for f in r.files()), str(r)
    except AssertionError as e:
        if "not JSON" not in str(e):
            raise


def test_gated_repo_message(hub, ww):
    r = ww("scan", "--format", "json", "hf://acme/gated-model", token=TOKEN)
    assert r.rc == 2, str(r)
    assert re.search(r"gated", r.text, re.I), str(r)
    assert GATED_MESSAGE in r.text, f"the server's X-Error-Message must reach the user\n{r}"


def test_unknown_repo(hub, ww):
    r = ww("scan", "--format", "json", "hf://acme/does-not-exist")
    assert r.rc == 2, str(r)
    assert "acme/does-not-exist" in r.text and re.search(r"not found", r.text, re.I), str(r)


def test_unknown_revision(hub, ww):
    r = ww("scan", "--format", "json", "hf://acme/tiny-model@no-such-branch")
    assert r.rc == 2, str(r)
    assert "no-such-branch" in r.text, str(r)


# ------------------------------------------------------------------------------------------
# offline

def test_offline_refuses_hf(hub, ww):
    r = ww("scan", "--offline", "hf://acme/tiny-model")
    assert r.rc == 2, str(r)
    assert re.search(r"offline", r.text, re.I), str(r)
    assert hub.requests() == [], "--offline must not touch the network"


def test_offline_refuses_url(hub, ww):
    url = hub.resolve_url("acme/tiny-model", "pytorch_model.bin")
    r = ww("scan", "--offline", url)
    assert r.rc == 2, str(r)
    assert re.search(r"offline", r.text, re.I), str(r)
    assert hub.requests() == []


def test_hf_hub_offline_env(hub, ww):
    r = ww("scan", "hf://acme/tiny-model", HF_HUB_OFFLINE="1")
    assert r.rc == 2, str(r)
    assert hub.requests() == [], "HF_HUB_OFFLINE=1 must not touch the network"


# ------------------------------------------------------------------------------------------
# retries and faults

def test_retry_recovers_from_two_503_on_file(hub, ww):
    rp = hub.resolve_path("acme/evil-model", "pytorch_model.bin")
    hub.faults[rp] = {"status": 503, "times": 2}
    url = hub.url + rp
    r = ww("scan", "--format", "json", "--retries", "3", url)
    assert r.rc == 1, str(r)
    assert_posix_system(r, "pytorch_model.bin")
    assert hub.faults[rp]["_used"] == 2
    assert len([e for e in hub.requests() if e["status"] == 503]) == 2


def test_retry_recovers_from_two_503_on_model_info(hub, ww):
    hub.faults["/api/models/acme/evil-model/revision/main"] = {"status": 503, "times": 2}
    hub.faults["/api/models/acme/evil-model"] = {"status": 503, "times": 2}
    r = ww("scan", "--format", "json", "hf://acme/evil-model")
    assert r.rc == 1, str(r)
    assert_posix_system(r, "/pytorch_model.bin")
    assert len([e for e in hub.requests() if e["status"] == 503]) == 2


def test_retry_recovers_from_two_503_on_cdn(hub, ww):
    spec = set_fault(hub, "acme/evil-model", "pytorch_model.bin",
                     {"status": 503, "times": 2, "server": "cdn"})
    r = ww("scan", "--format", "json", "hf://acme/evil-model")
    assert r.rc == 1, str(r)
    assert_posix_system(r, "/pytorch_model.bin")
    assert spec["_used"] == 2


def test_retry_recovers_from_two_503_on_hf_file(hub, ww):
    spec = set_fault(hub, "acme/evil-model", "pytorch_model.bin", {"status": 503, "times": 2})
    r = ww("scan", "--format", "json", "hf://acme/evil-model")
    assert r.rc == 1, str(r)
    assert_posix_system(r, "/pytorch_model.bin")
    assert spec["_used"] == 2


def test_retry_recovers_from_connection_reset(hub, ww):
    rp = hub.resolve_path("acme/evil-model", "pytorch_model.bin")
    hub.faults[rp] = {"reset": True, "times": 1}
    r = ww("scan", "--format", "json", hub.url + rp)
    assert r.rc == 1, str(r)
    assert_posix_system(r, "pytorch_model.bin")


def test_retry_backoff_is_bounded(hub, ww):
    """Two 503s with 250 ms exponential backoff: well under 5 s."""
    rp = hub.resolve_path("acme/tiny-model", "pytorch_model.bin")
    hub.faults[rp] = {"status": 503, "times": 2}
    r = ww("scan", "--format", "json", hub.url + rp)
    assert r.rc == 0, str(r)
    assert r.elapsed < 5, str(r)
    t = [e["time"] for e in hub.requests() if e["path"].split("?")[0] == rp]
    assert len(t) >= 3
    assert t[1] - t[0] >= 0.2, "retry came before the 250 ms backoff"


# every persistent fault must end as exit 2 and never as clean
FAULTS = {
    "503": ({"status": 503}, []),
    "500": ({"status": 500}, []),
    "reset": ({"reset": True}, []),
    "slow": ({"sleep": 4}, ["--timeout", "1"]),
    "slow-body": ({"sleep_body": 4, "methods": ["GET"]}, ["--timeout", "1"]),
    "truncated": ({"truncate": 0.5, "methods": ["GET"]}, []),
}


@pytest.mark.parametrize("kind", list(FAULTS))
def test_fault_on_url_is_error(hub, ww, kind):
    spec, extra = FAULTS[kind]
    rp = hub.resolve_path("acme/tiny-model", "pytorch_model.bin")
    hub.faults[rp] = dict(spec, times=None)
    url = hub.url + rp
    r = ww("scan", "--format", "json", "--retries", "1", *extra, url, timeout=40)
    assert_failed_not_clean(r, url)
    f = r.file("pytorch_model.bin")
    assert f["verdict"] == "error", str(r)
    assert r.elapsed < 30, str(r)


@pytest.mark.parametrize("kind", list(FAULTS))
def test_fault_on_hf_file_is_error(hub, ww, kind):
    spec, extra = FAULTS[kind]
    used = set_fault(hub, "acme/tiny-model", "pytorch_model.bin", dict(spec, times=None))
    r = ww("scan", "--format", "json", "--retries", "1", *extra, "hf://acme/tiny-model",
           timeout=40)
    assert r.rc == 2, str(r)
    f = r.file("/pytorch_model.bin")
    assert f["verdict"] == "error", str(r)
    assert "pytorch_model.bin" in (f.get("error") or "") + r.err, str(r)
    # the other files were still scanned and the summary counts the error
    assert_clean(r, "/model.safetensors")
    assert r.json["summary"]["errors"] >= 1
    assert used.get("_used", 0) >= 1, "the fault was never hit"


@pytest.mark.parametrize("kind", ["503", "reset", "slow"])
def test_fault_on_listing_is_error(hub, ww, kind):
    spec, extra = FAULTS[kind]
    for p in ("/api/models/acme/tiny-model/revision/main", "/api/models/acme/tiny-model"):
        hub.faults[p] = dict(spec, times=None)
    r = ww("scan", "--format", "json", "--retries", "1", *extra, "hf://acme/tiny-model",
           timeout=40)
    assert r.rc == 2, str(r)
    assert "acme/tiny-model" in r.text, str(r)
    try:
        files = r.files()
    except AssertionError:
        files = []
    assert all(f["verdict"] != "clean" for f in files), str(r)


def test_truncated_small_file_on_hub(hub, ww):
    rp = hub.resolve_path("acme/evil-dataset", "data/train.pkl", repo_type="dataset")
    hub.faults[rp] = {"truncate": 10, "methods": ["GET"], "times": None}
    r = ww("scan", "--format", "json", "--retries", "1", hub.url + rp)
    assert r.rc == 2 or r.rc == 1, str(r)
    f = r.file("data/train.pkl")
    assert f["verdict"] != "clean", str(r)
    assert r.rc == 2, f"a truncated download is an error, whatever was seen\n{r}"


def test_retries_zero_fails_fast(hub, ww):
    rp = hub.resolve_path("acme/tiny-model", "pytorch_model.bin")
    hub.faults[rp] = {"status": 503, "times": 1}
    r = ww("scan", "--format", "json", "--retries", "0", hub.url + rp)
    assert r.rc == 2, str(r)
    assert len([e for e in hub.requests() if e["path"].split("?")[0] == rp]) == 1


def test_no_progress_bar_when_stderr_is_not_a_tty(hub, ww):
    r = ww("scan", "hf://acme/tiny-model")
    assert r.rc == 0, str(r)
    assert "\r" not in r.err and "\x1b[" not in r.err, repr(r.err)
