"""The policies shipped in policies/, each run against its own case file
(OPA's case format plus `module_files`), and the seed policies checked
character for character against the article."""
import glob
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import regocase  # noqa: E402
from conftest import record  # noqa: E402

POLICIES = os.path.join(regocase.SOURCE_ROOT, "policies")
CASE_DIRS = [POLICIES, os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases")]
FILES = sorted(f for d in CASE_DIRS for f in glob.glob(os.path.join(d, "*.yaml")))
CASES = [(cid, case, os.path.dirname(f)) for f in FILES for cid, case in regocase.load_cases(f)]


def with_files(case, base):
    case = dict(case)
    mods = list(case.get("modules") or [])
    for name in case.pop("module_files", []) or []:
        with open(os.path.join(base, name), encoding="utf-8") as f:
            mods.append(f.read())
    case["modules"] = mods
    return case


def test_every_policy_has_cases():
    for rego in glob.glob(os.path.join(POLICIES, "*.rego")):
        assert os.path.exists(rego[:-5] + ".yaml"), f"{rego} has no case file"


@pytest.mark.parametrize("cid,case,base", CASES, ids=[c[0] for c in CASES])
def test_policy_case(cid, case, base):
    ok, msg = regocase.run_case(with_files(case, base))
    record("weightwall policy cases", "passed" if ok else "failed")
    assert ok, f"{cid}: {msg}"


@pytest.mark.parametrize("name,first,last", [
    ("cloudsmith-scan-summary.rego", 114, 126),
    ("cloudsmith-risky-extensions.rego", 134, 146),
])
def test_seed_policies_verbatim(name, first, last):
    seeds = glob.glob(os.path.join(regocase.SHARED, "seed", "*.txt"))
    if not seeds:
        pytest.skip("seed article not available")
    with open(seeds[0], encoding="utf-8") as f:
        lines = f.read().split("\n")
    want = "\n".join(lines[first - 1:last]) + "\n"
    with open(os.path.join(POLICIES, name), encoding="utf-8") as f:
        assert f.read() == want
