"""Load OPA conformance-style YAML case files and run them through
`weightwall policy eval --all`. Shared by the pytest suites in this directory."""
import json
import math
import os
import subprocess
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("WW_SOURCE_ROOT", os.path.normpath(os.path.join(HERE, "..", "..")))
SHARED = os.environ.get("WW_SHARED", os.path.normpath(os.path.join(SOURCE_ROOT, "..", "shared")))
if not os.path.isdir(SHARED):
    SHARED = "/work/shared"


def weightwall():
    exe = os.environ.get("WEIGHTWALL")
    if exe:
        return exe
    for cand in ("build-policy", "build"):
        p = os.path.join(SOURCE_ROOT, cand, "cli", "weightwall")
        if os.path.exists(p):
            return p
    raise RuntimeError("set WEIGHTWALL to the weightwall binary")


def load_cases(path):
    """Every case of every YAML document in the file, as (id, case)."""
    out = []
    with open(path, encoding="utf-8") as f:
        for doc in yaml.safe_load_all(f):
            if not doc:
                continue
            for i, case in enumerate(doc.get("cases") or []):
                out.append((f"{os.path.basename(path)}#{i}:{case.get('note')}", case))
    return out


# ---- Rego values in Python: total order and normalisation --------------------

def _rank(v):
    if v is None:
        return 0
    if isinstance(v, bool):
        return 1
    if isinstance(v, (int, float)):
        return 2
    if isinstance(v, str):
        return 3
    if isinstance(v, list):
        return 4
    return 5


class RegoKey:
    """Sort key implementing Rego's total order on JSON values."""

    def __init__(self, v):
        self.v = v

    def __lt__(self, other):
        return rego_cmp(self.v, other.v) < 0


def rego_cmp(a, b):
    ra, rb = _rank(a), _rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra in (1, 2):
        return (a > b) - (a < b)
    if ra == 3:
        ab, bb = a.encode(), b.encode()
        return (ab > bb) - (ab < bb)
    if ra == 4:
        for x, y in zip(a, b):
            c = rego_cmp(x, y)
            if c:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    if ra == 5:
        ka = sorted(a.keys(), key=lambda k: k.encode())
        kb = sorted(b.keys(), key=lambda k: k.encode())
        for x, y in zip(ka, kb):
            c = rego_cmp(x, y) or rego_cmp(a[x], b[y])
            if c:
                return c
        return (len(ka) > len(kb)) - (len(ka) < len(kb))
    return 0


def norm(v):
    """Canonical JSON text: numbers by value, keys sorted (for set comparison)."""
    def fix(x):
        if isinstance(x, bool) or x is None or isinstance(x, str):
            return x
        if isinstance(x, (int, float)):
            if isinstance(x, float) and math.isfinite(x) and x == int(x) and abs(x) < 2**63:
                return int(x)
            return x
        if isinstance(x, list):
            return [fix(y) for y in x]
        if isinstance(x, dict):
            return {str(k): fix(y) for k, y in x.items()}
        return x
    return json.dumps(fix(v), sort_keys=True)


def sort_top(binding):
    return {k: (sorted(v, key=RegoKey) if isinstance(v, list) else v) for k, v in binding.items()}


def yaml_json(v):
    """YAML-loaded value to JSON text; YAML keys that are not strings are
    written as their JSON text, as OPA's case loader does."""
    def fix(x):
        if isinstance(x, dict):
            return {(k if isinstance(k, str) else json.dumps(k)): fix(y) for k, y in x.items()}
        if isinstance(x, list):
            return [fix(y) for y in x]
        return x
    return json.dumps(fix(v))


def run_case(case, extra_args=(), timeout=60):
    """Run one case. Returns (ok, message)."""
    with tempfile.TemporaryDirectory() as td:
        args = [weightwall(), "policy", "eval", "--all"]
        for i, mod in enumerate(case.get("modules") or []):
            p = os.path.join(td, f"mod{i}.rego")
            with open(p, "w", encoding="utf-8") as f:
                f.write(mod)
            args += ["-p", p]
        if "data" in case and case["data"] is not None:
            p = os.path.join(td, "data.json")
            with open(p, "w", encoding="utf-8") as f:
                f.write(yaml_json(case["data"]))
            args += ["-d", p]
        inp = None
        if "input" in case:
            inp = yaml_json(case["input"])
        elif "input_term" in case:
            inp = json.dumps(json.loads(case["input_term"]))
        if inp is not None:
            p = os.path.join(td, "input.json")
            with open(p, "w", encoding="utf-8") as f:
                f.write(inp)
            args += ["-i", p]
        if case.get("strict_error"):
            args.append("--strict")
        args += list(extra_args)
        args += ["--", case["query"]]
        r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    want_code = case.get("want_error_code")
    want_err = case.get("want_error")
    if want_code or want_err:
        if r.returncode != 2:
            return False, f"expected error {want_code}, got exit {r.returncode}: {r.stdout.strip()}"
        if want_code and want_code not in r.stderr:
            return False, f"expected error code {want_code}, got: {r.stderr.strip()}"
        if want_err and want_err not in r.stderr:
            return False, f"expected error text {want_err!r}, got: {r.stderr.strip()}"
        return True, ""
    if "want_result" not in case:
        return False, "malformed case: neither want_result nor want_error_code"
    if r.returncode not in (0, 1):
        return False, f"exit {r.returncode}: {r.stderr.strip()}"
    got = json.loads(r.stdout) if r.stdout.strip() else []
    want = json.loads(yaml_json(case["want_result"] or []))
    if case.get("sort_bindings"):
        got = [sort_top(b) for b in got]
        want = [sort_top(b) for b in want]
    gs = {norm(b) for b in got}
    ws = {norm(b) for b in want}
    if gs != ws:
        return False, f"want {sorted(ws)}\n got {sorted(gs)}"
    return True, ""
