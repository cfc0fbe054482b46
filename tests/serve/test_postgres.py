"""Several gate nodes sharing one PostgreSQL database agree on decisions and releases."""

from __future__ import annotations

import pytest

from conftest import HFError, sha256


def test_two_nodes_share_decisions(make_gate, hub, fx, postgres):
    db = postgres("twonodes")
    a = make_gate(db=db, name="node-a")
    b = make_gate(db=db, name="node-b")
    repo = "acme/evil-nodes"
    with pytest.raises(HFError) as ea:
        a.hf_download(repo, "config.json")
    assert ea.value.status == 403 and ea.value.code == "GatedRepo"
    hub.reset_log()
    with pytest.raises(HFError) as eb:
        b.hf_download(repo, "pytorch_model.bin")
    assert eb.value.status == 403 and eb.value.message == ea.value.message
    # node b decided nothing itself: it found node a's decision
    assert not [l for l in b.log_lines() if l.get("event") in ("scan", "decision")]
    assert hub.requests(server="cdn") == []
    commit = hub.repos[("model", repo)].sha
    st, q = b.admin("/admin/api/quarantined")
    row = [r for r in q if r["repo"] == repo][0]
    assert row["node"] == "node-a" and row["revision"] == commit
    # a release on node b opens the revision on node a too
    st, r = b.admin("/admin/api/release", "POST",
                    {"repo": repo, "revision": commit, "reason": "approved by secops"})
    assert st == 200
    body, _ = a.hf_download(repo, "pytorch_model.bin")
    assert sha256(body) == sha256(fx.eval_bin)
    st, audit = a.admin("/admin/api/audit")
    rel = [x for x in audit if x["event"] == "release" and x["repo"] == repo]
    assert rel and rel[0]["node"] == "node-b"
    # benign downloads through both nodes
    for g in (a, b):
        body, _ = g.hf_download("acme/tiny-model", "pytorch_model.bin")
        assert body == fx.benign["pytorch_model.bin"]
