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
