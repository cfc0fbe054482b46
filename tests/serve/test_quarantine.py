"""Scan before serve, decisions per repo revision, quarantine answers, the audit log, the
operators' release action and restart persistence. Tests taking `backend` run against SQLite and
against a real PostgreSQL server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import ADMIN, HFError, sha256


def assert_quarantined(g, repo, filename, *needles):
    """HEAD and GET are refused with 403 GatedRepo and the policy's reasons, on both."""
    with pytest.raises(HFError) as ei:
        g.hf_metadata(repo, filename)
    e = ei.value
    assert e.status == 403 and e.code == "GatedRepo", e
    msg = e.message
    assert "quarantined by policy 'cloudsmith-scan-summary'" in msg, msg
    for n in needles:
        assert n in msg, msg
    st, hd, body = g.req(f"/{repo}/resolve/main/{filename}")
    assert st == 403 and hd["x-error-code"] == "GatedRepo"
    assert hd["x-error-message"] == msg
    assert json.loads(body) == {"error": msg}, body[:300]
    return msg


def test_malicious_revision_is_quarantined_whole(gate, hub, fx):
    msg = assert_quarantined(gate, "acme/evil-model", "pytorch_model.bin", "posix.system",
                             "pytorch_model.bin")
    # the package is the revision: its harmless files are refused too, with the same reason
    assert assert_quarantined(gate, "acme/evil-model", "config.json") == msg
    assert assert_quarantined(gate, "acme/evil-model", "README.md") == msg
    commit = hub.repos[("model", "acme/evil-model")].sha
    assert f"acme/evil-model@{commit[:7]}" in msg
    # the builtins.eval variant (ykilcher/totally-harmless-model)
    assert_quarantined(gate, "ykilcher/totally-harmless-model", "config.json", "eval")


def test_no_byte_before_the_verdict(gate, hub, fx):
    """The gate fetched the evil blob upstream to scan it, but no client got a byte of it."""
    with pytest.raises(HFError):
        gate.hf_download("acme/evil-model", "pytorch_model.bin")
    st, hd, body = gate.req("/acme/evil-model/resolve/main/pytorch_model.bin",
                            headers={"Range": "bytes=0-"})
    assert st == 403
    assert fx.evil_bin[:64] not in body
    access = [l for l in gate.log_lines() if l.get("event") == "access"
              and "evil-model" in l.get("path", "")]
    assert access and all(l["status"] == 403 for l in access)


def test_big_malicious_checkpoint_refused_fast_by_ranged_scan(gate, hub, fx):
    t0 = time.monotonic()
    st, hd, body = gate.req("/acme/big-evil-model/resolve/main/pytorch_model.bin")
    ttfb = time.monotonic() - t0
    assert st == 403 and hd["x-error-code"] == "GatedRepo", (st, hd)
    assert "posix.system" in hd["x-error-message"]
    assert ttfb < 10, f"verdict took {ttfb:.1f}s"
    cdn = hub.requests(server="cdn", contains=fx.bigevil_sha)
    assert cdn and all(r["range"] for r in cdn), "the 256 MiB blob must not be downloaded"
    assert sum(r["bytes_sent"] for r in cdn) < (8 << 20)
    assert not os.path.exists(os.path.join(gate.store, "blobs", fx.bigevil_sha))


def test_big_benign_checkpoint_scanned_then_served(gate, hub, fx):
    t0 = time.monotonic()
    meta = gate.hf_metadata("acme/big-model", "pytorch_model.bin")
    assert time.monotonic() - t0 < 3, "HEAD must answer at once from upstream metadata"
    assert meta["size"] == fx.big_size and meta["etag"] == fx.big_sha
    import hashlib
    import http.client
    import urllib.parse
    u = urllib.parse.urlsplit(gate.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    deadline = time.monotonic() + 60
    while True:
        t0 = time.monotonic()
        conn.request("GET", "/acme/big-model/resolve/main/pytorch_model.bin")
        r = conn.getresponse()
        ttfb = time.monotonic() - t0
        if r.status != 503:
            break
        r.read()                                   # scan in progress: retry like 0.x does
        assert r.getheader("X-Error-Message")
        assert time.monotonic() < deadline
        time.sleep(1)
    assert r.status == 200, r.status
    assert ttfb < 10, f"TTFB {ttfb:.1f}s"
    h = hashlib.sha256()
    n = 0
    while True:
        b = r.read(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    conn.close()
    assert n == fx.big_size and h.hexdigest() == fx.big_sha
    # the full download was scanned again from the store, and it agreed
    scans = [l for l in gate.log_lines() if l.get("event") == "scan"
             and l.get("repo") == "acme/big-model" and l["path"] == "pytorch_model.bin"]
    assert {s["source"] for s in scans} == {"ranged", "local"}
    assert all(s["verdict"] == "clean" for s in scans)
    full = [q for q in hub.requests(server="cdn", contains=fx.big_sha) if not q["range"]]
    assert len(full) == 1


def test_release_is_audited_and_opens_the_revision(make_gate, hub, fx, backend):
    kind, db = backend
    repo = f"acme/evil-release-{kind}"
    g = make_gate(db=db, name=f"rel-{kind}")
    msg = assert_quarantined(g, repo, "config.json", "builtins.eval")
    commit = hub.repos[("model", repo)].sha
    st, q = g.admin("/admin/api/quarantined")
    assert st == 200
    row = [r for r in q if r["repo"] == repo]
    assert row and row[0]["revision"] == commit and row[0]["message"] == msg
    assert not row[0]["released"]
    assert any(f["path"] == "pytorch_model.bin" and f["verdict"] == "unsafe"
               for f in row[0]["findings"])
    # the admin API needs the token
    st, hd, _ = g.req("/admin/api/quarantined")
    assert st == 401
    st, hd, _ = g.req("/admin/api/release", "POST", {"Content-Type": "application/json"},
                      json.dumps({"repo": repo, "revision": commit, "reason": "x"}).encode())
    assert st == 401
    # a release needs a reason
    st, r = g.admin("/admin/api/release", "POST", {"repo": repo, "revision": commit})
    assert st == 400
    st, r = g.admin("/admin/api/release", "POST",
                    {"repo": repo, "revision": commit, "reason": "false positive, ticket SEC-42"})
    assert st == 200 and r["ok"], r
    body, meta = g.hf_download(repo, "pytorch_model.bin")
    assert body == fx.eval_bin
    st, audit = g.admin("/admin/api/audit")
    events = [(a["event"], a["repo"], a["detail"]) for a in audit]
    assert ("release", repo, f"released by {r['actor']}: false positive, ticket SEC-42") in events
    assert any(e == "quarantine" and rp == repo and d == msg for e, rp, d in events)
    st, q = g.admin("/admin/api/quarantined")
    assert [x for x in q if x["repo"] == repo][0]["released"]
    st, dl = g.admin("/admin/api/downloads")
    mine = [d for d in dl if d["repo"] == repo]
    assert {d["status"] for d in mine} >= {"403", "200"} or {int(d["status"]) for d in mine} >= {
        403, 200}


def test_restart_keeps_blobs_decisions_and_audit(make_gate, hub, fx, backend, tmp_path):
    kind, db = backend
    repo = f"acme/evil-restart-{kind}"
    store = tmp_path / f"store-restart-{kind}"
    g = make_gate(store=store, db=db, name=f"restart1-{kind}")
    body, _ = g.hf_download("acme/tiny-model", "model.safetensors")
    msg = assert_quarantined(g, repo, "pytorch_model.bin")
    rc = g.stop()
    assert rc == 0, g.log()
    hub.reset_log()
    g2 = make_gate(store=store, db=db, name=f"restart2-{kind}")
    body2, _ = g2.hf_download("acme/tiny-model", "model.safetensors")
    assert body2 == body
    assert assert_quarantined(g2, repo, "pytorch_model.bin") == msg
    # nothing was fetched or scanned again: only listings went upstream
    assert hub.requests(server="cdn") == []
    assert not [r for r in hub.requests(server="hub") if "/resolve/" in r["path"]]
    assert not [l for l in g2.log_lines() if l.get("event") in ("scan", "decision")]
    st, audit = g2.admin("/admin/api/audit")
    assert any(a["event"] == "quarantine" and a["repo"] == repo for a in audit)


def test_policy_that_fails_to_load_refuses_everything(make_gate, tmp_path):
    bad = tmp_path / "broken.rego"
    bad.write_text("package cloudsmith\nmatch if {\n")
    g = make_gate(policy=str(bad), name="badpolicy")
    with pytest.raises(HFError) as ei:
        g.hf_download("acme/tiny-model", "config.json")
    assert ei.value.status == 403 and ei.value.code == "GatedRepo"
    assert "failed to load" in ei.value.message and "broken" in ei.value.message
    st, hd, body = g.req("/healthz")
    assert st == 503 and json.loads(body)["status"] == "policy-error"


def test_policy_that_fails_to_evaluate_refuses(make_gate, tmp_path):
    p = tmp_path / "conflict.rego"
    # two complete definitions with different values: eval_conflict_error at evaluation time
    p.write_text("package cloudsmith\nimport rego.v1\nmatch := true if input.v0\n"
                 "match := false if input.v0\n")
    g = make_gate(policy=str(p), name="evalerr")
    with pytest.raises(HFError) as ei:
        g.hf_download("acme/tiny-model", "config.json")
    assert ei.value.status == 403 and ei.value.code == "GatedRepo"
    assert "failed to evaluate" in ei.value.message


def test_healthz_metrics_and_access_log(gate, hub):
    gate.hf_download("acme/tiny-model", "config.json")
    with pytest.raises(HFError):
        gate.hf_download("acme/evil-model", "config.json")           # refused at HEAD
    st, _, _ = gate.req("/acme/evil-model/resolve/main/config.json")  # and at GET
    assert st == 403
    st, hd, body = gate.req("/healthz")
    assert st == 200 and json.loads(body)["status"] == "ok"
    st, hd, body = gate.req("/metrics")
    text = body.decode()
    assert st == 200 and "text/plain" in hd["content-type"]

    def metric(line):
        return float([l for l in text.splitlines() if l.startswith(line + " ")][0].split()[-1])
    assert metric('weightwall_gate_requests_total{code="2xx"}') >= 2
    assert metric('weightwall_gate_requests_total{code="4xx"}') >= 2
    assert metric("weightwall_gate_quarantines_total") >= 1
    assert metric('weightwall_gate_scans_total{verdict="unsafe"}') >= 1
    assert metric("weightwall_gate_bytes_served_total") > 0
    assert metric("weightwall_gate_scan_seconds_count") >= 1
    assert 'weightwall_gate_scan_seconds_bucket{le="+Inf"}' in text
    access = [l for l in gate.log_lines() if l.get("event") == "access"]
    assert access, gate.log()
    for l in access:
        assert {"ts", "method", "path", "status", "bytes", "ms", "client"} <= set(l), l


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def dump_dom(url):
    exe = _chromium()
    prof = tempfile.mkdtemp(prefix="ww-chromium-")
    try:
        r = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu",
                            "--disable-background-networking", "--disable-component-update",
                            "--disable-sync", "--no-first-run", f"--user-data-dir={prof}",
                            "--dump-dom", url], capture_output=True, text=True, timeout=90)
        assert r.returncode == 0, r.stderr[-2000:]
        return r.stdout
    finally:
        shutil.rmtree(prof, ignore_errors=True)


def test_operator_page_in_headless_chromium(gate, hub):
    if not _chromium():
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    repo = "acme/evil-web"
    msg = assert_quarantined(gate, repo, "config.json")
    commit = hub.repos[("model", repo)].sha
    dom = dump_dom(f"{gate.url}/?token={ADMIN}")
    assert 'id="quarantine-list"' in dom
    row = f'<tr class="quarantined" data-repo="{repo}" data-revision="{commit}">'
    assert row in dom, dom[:3000]
    assert "builtins.eval" in dom and "Release</button>" in dom
    # the page is behind the token
    denied = dump_dom(f"{gate.url}/")
    assert "admin token required" in denied and repo not in denied
    st, r = gate.admin("/admin/api/release", "POST",
                       {"repo": repo, "revision": commit, "reason": "reviewed by the web test"})
    assert st == 200
    dom = dump_dom(f"{gate.url}/?token={ADMIN}")
    assert f'<tr class="released" data-repo="{repo}"' in dom
    assert "reviewed by the web test" in dom
    body, _ = gate.hf_download(repo, "config.json")
    assert b"architectures" in body


def test_release_form_posts_back(gate, hub):
    repo = "acme/evil-model"
    assert_quarantined(gate, repo, "config.json")
    commit = hub.repos[("model", repo)].sha
    form = f"token={ADMIN}&repo=acme%2Fevil-model&revision={commit}&reason=form+release"
    st, hd, body = gate.req("/admin/release", "POST",
                            {"Content-Type": "application/x-www-form-urlencoded"}, form.encode())
    assert st == 303 and hd["location"].startswith("/?token="), (st, body)
    st, audit = gate.admin("/admin/api/audit")
    assert any(a["event"] == "release" and a["detail"].endswith(": form release") for a in audit)
    body, _ = gate.hf_download(repo, "config.json")
    assert sha256(body)
