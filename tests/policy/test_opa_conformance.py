"""OPA's conformance cases (../shared/opa-cases/v1) plus the Cloudsmith cases,
run through `weightwall policy eval --all`. Every in-scope case must pass; the
skip list below is the only place a case may be left out, each with a reason
(also in docs/policy/conformance.md)."""
import glob
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import regocase  # noqa: E402
from conftest import record  # noqa: E402

REF_HEADS = "dotted or multi-key rule heads (a.b.c := 1, p[a][b]) are not supported"
SKIP = {
    "defaultkeyword/function with var arg, ref head": REF_HEADS,
    "defaultkeyword/function with var arg, ref head query": REF_HEADS,
    "refheads/single-value": REF_HEADS,
    "refheads/single-value, with var": REF_HEADS,
    "refheads/single-value, with var, conflict": REF_HEADS,
    "refheads/complete: direct query": REF_HEADS,
    "refheads/complete: full package extent": REF_HEADS,
    "refheads/complete+mixed": REF_HEADS,
    "refheads/single-value rule": REF_HEADS,
    "refheads/multi-value": REF_HEADS,
    "refheads/single-value: previously partial object": REF_HEADS,
    "refheads/multi-value: same rule": REF_HEADS,
    "refheads/single-value default rule": REF_HEADS,
    "refheads/mixed example, multiple rules": REF_HEADS,
    "refheads/many-vars": REF_HEADS,
    "sprintf/big_int": "numbers are int64/double, not arbitrary precision",
    "sprintf/big_int/max_cert_serial_number": "numbers are int64/double, not arbitrary precision",
}

ROOT = os.path.join(regocase.SHARED, "opa-cases")
FILES = sorted(glob.glob(os.path.join(ROOT, "**", "*.yaml"), recursive=True))
CASES = [c for f in FILES for c in regocase.load_cases(f)]


def test_cases_found():
    assert FILES, f"no case files under {ROOT} (set WW_SHARED)"
    assert len(CASES) >= 150


@pytest.mark.parametrize("cid,case", CASES, ids=[c[0] for c in CASES])
def test_opa_case(cid, case):
    note = case.get("note")
    if note in SKIP:
        record("OPA conformance", "skipped")
        pytest.skip(SKIP[note])
    ok, msg = regocase.run_case(case)
    record("OPA conformance", "passed" if ok else "failed")
    assert ok, f"{cid}: {msg}"
