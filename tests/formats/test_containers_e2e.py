"""Containers end to end through the CLI (threats.md sections 4 and 6, FP traps of section 7).

Malicious/hostile fixtures from tests/fixtures/make_containers.py (zip tricks, torch zip /
legacy / tar / TorchScript, npy/npz, compressed wrappers, joblib, 7z, tar, nesting, encrypted
archives, zip slip, bombs, lying lengths); benign real artifacts (torch, numpy, sklearn/joblib)
from make_benign.py must be CLEAN."""

WW_CASES = [
    {"scripts": ["make_containers"], "exclude_prefixes": ["code/"]},
    {"scripts": ["make_benign"], "prefixes": ["torch/", "numpy/", "joblib/"],
     "exclude_prefixes": ["numpy/numpy_in_pickle"]},
]


def test_case(ww_case, ww_scan, check_case):
    rc, entry, _ = ww_scan(ww_case["path"], *ww_case["args"], timeout=ww_case["timeout"])
    check_case(ww_case, rc, entry)


def test_every_threat_class_has_a_fixture(shared_dir, fixture_dir):
    """Sections 1, 2, 3, 4 and 6 of threats.md: every T-ID has a generated fixture (or is covered
    by tests/cli/test_cli.py, listed here)."""
    import json
    import re
    covered_by_cli = {"T-DIR-FILTER": "test_directory_recursion",
                      "T-HUB-INDIRECTION": "test_hub_indirection_auto_map_and_code",
                      "T-RES-MANY-FILES": "test_many_files / test_directory_symlink_loop_terminates"}
    have = set()
    for f in fixture_dir.glob("*.cases.json"):
        have |= {c["threat"] for c in json.loads(f.read_text())}
    sec, ids = None, []
    for line in (shared_dir / "docs" / "threats.md").read_text().splitlines():
        m = re.match(r"## (\d)\.", line)
        if m:
            sec = int(m.group(1))
        m = re.match(r"### (T-[A-Z0-9-]+)", line)
        if m and sec in (1, 2, 3, 4, 6):
            ids.append(m.group(1))
    assert len(ids) > 50
    missing = [i for i in ids if i not in have and i not in covered_by_cli]
    assert not missing, missing
