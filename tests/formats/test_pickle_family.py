"""Pickle-family fixtures end to end through the CLI (threats.md sections 1-3, 7).

Every malicious pickle must be UNSAFE at the severity threats.md suggests and name the
dangerous global; every benign pickle written by a real library must be CLEAN. Fixtures come
from tests/fixtures/make_malicious.py, make_benign.py (pickle/ group) and make_containers.py
(code/ group); the seed article's three files come from demo/make_demo.py."""
import pickletools

import pytest

WW_CASES = [
    {"scripts": ["make_malicious"]},
    {"scripts": ["make_benign"], "prefixes": ["pickle/", "numpy/numpy_in_pickle", "sklearn/"]},
    {"scripts": ["make_containers"], "prefixes": ["code/"]},
]


def test_case(ww_case, ww_scan, check_case):
    rc, entry, _ = ww_scan(ww_case["path"], *ww_case["args"], timeout=ww_case["timeout"])
    check_case(ww_case, rc, entry)


# --------------------------------------------------------------------- the seed article's files

SEED = [
    ("test_critical.pkl", "CRITICAL", [["posix", "system"], ["os", "system"]]),
    ("test_high.pkl", "HIGH", [["webbrowser", "open"]]),
    ("test_medium.pkl", "MEDIUM", [["builtins", "print"]]),
]


@pytest.mark.parametrize("name,severity,alts", SEED, ids=[s[0] for s in SEED])
def test_seed_article_file(name, severity, alts, fixture_dir, ww_scan, check_case):
    path = fixture_dir / "demo" / name
    exp = {"id": f"demo/{name}", "verdict": "unsafe", "severity": severity, "imports": [alts],
           "note": "seed article make-bad-model.py"}
    rc, entry, _ = ww_scan(path)
    check_case(exp, rc, entry)


def test_seed_files_are_what_the_article_writes(fixture_dir):
    """Guard the fixtures themselves: default protocol, STACK_GLOBAL of the article's callables."""
    want = {"test_critical.pkl": ("posix", "system"), "test_high.pkl": ("webbrowser", "open"),
            "test_medium.pkl": ("builtins", "print")}
    for name, (mod, fn) in want.items():
        data = (fixture_dir / "demo" / name).read_bytes()
        strings = [a for op, a, _ in pickletools.genops(data) if isinstance(a, str)]
        assert data[:2] == b"\x80\x04", name  # pickle.DEFAULT_PROTOCOL on Python 3.11
        assert strings[:2] == [mod, fn], (name, strings)


def test_demo_benign_checkpoint_clean(fixture_dir, ww_scan, check_case):
    rc, entry, _ = ww_scan(fixture_dir / "demo" / "benign_model.pt")
    check_case({"id": "demo/benign_model.pt", "verdict": "clean", "model": True}, rc, entry)


def test_demo_directory_exit_code(fixture_dir, ww):
    """`weightwall scan demo/` as in the README: exit 1, three unsafe, one clean."""
    r = ww("scan", fixture_dir / "demo")
    assert r.rc == 1, r.stdout[-3000:]
    got = {f["path"].rsplit("/", 1)[-1]: (f["verdict"], f["max_severity"])
           for f in r.json["files"]}
    assert got.get("benign_model.pt") in (("clean", None), ("clean", "LOW")), got
    assert got.get("test_critical.pkl") == ("unsafe", "CRITICAL"), got
    assert got.get("test_high.pkl") == ("unsafe", "HIGH"), got
    assert got.get("test_medium.pkl") == ("unsafe", "MEDIUM"), got
    assert len(got) == 4, got
    s = r.json["summary"]
    assert (s["scanned"], s["unsafe"], s["clean"], s["errors"]) == (4, 3, 1, 0), s
