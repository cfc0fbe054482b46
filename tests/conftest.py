"""Shared pytest fixtures for weightwall's Python test suites (tests/cli, tests/formats, ...).

Fixtures
  ww           run the CLI: ww("scan", path, ...) -> WWRun(rc, json, stdout, stderr).
               JSON output is requested automatically for `scan` unless a --format/-f is given
               (pass fmt=None to leave the arguments alone). Binary from $WEIGHTWALL
               (default <repo>/build/cli/weightwall).
  ww_scan      ww_scan(path, *extra_args) -> (rc, file_entry, run) for a single file.
  shared_dir   ../shared (or $WW_SHARED): threats.md, peer-samples/, seed/.
  fixture_dir  directory holding every file written by tests/fixtures/make_*.py and
               demo/make_demo.py (generated once, cached per generator version in the
               system tmp dir; $WW_FIXTURES_DIR overrides the location,
               WW_FIXTURES_REGEN=1 forces regeneration).
  ww_case      parametrized: one generated fixture + its expectation (see
               tests/fixtures/fixlib.py). A test module selects cases with a module-level
               WW_CASES = [{"scripts": [...], "prefixes": [...], "exclude_prefixes": [...]}].
  check_case   check_case(case, rc, entry) asserts an expectation, with a readable message.
  peer_tally   dict collected by test_peer_samples.py, printed at the end of the run.

Nothing here loads a fixture: generators only serialize, tests only run the scanner.
"""
import collections
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"
GEN_DIR = TESTS / "fixtures"
DEMO_SCRIPT = REPO / "demo" / "make_demo.py"
PYTHON = "/usr/bin/python3"  # Debian's torch/numpy/sklearn live only here
SEVERITIES = ["LOW", "MEDIUM", "HIGH", "CRITICAL"]

WWRun = collections.namedtuple("WWRun", "rc json stdout stderr")


def weightwall_path():
    return Path(os.environ.get("WEIGHTWALL", REPO / "build" / "cli" / "weightwall"))


def shared_path():
    return Path(os.environ.get("WW_SHARED", REPO.parent / "shared")).resolve()


# ----------------------------------------------------------------------------- running the CLI

def run_ww(*args, fmt="json", stdin=None, timeout=300, cwd=None, env=None):
    exe = weightwall_path()
    if not exe.exists():
        pytest.fail(f"weightwall binary not found at {exe} (build with `ninja -C build` "
                    f"or set WEIGHTWALL)")
    args = [str(a) for a in args]
    if fmt and args and args[0] == "scan" and not any(
            a in ("--format", "-f") or a.startswith("--format=") for a in args):
        args = [args[0], "--format", fmt] + args[1:]
    try:
        p = subprocess.run([str(exe)] + args, input=stdin, capture_output=True, timeout=timeout,
                           cwd=cwd, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"weightwall {' '.join(args)} did not finish within {timeout}s (hang?)")
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode < 0:
        pytest.fail(f"weightwall {' '.join(args)} was killed by signal {-p.returncode} "
                    f"(crash)\nstderr:\n{err[-3000:]}")
    data = None
    if fmt == "json" and out.strip():
        try:
            data = json.loads(out)
        except ValueError as e:
            pytest.fail(f"weightwall {' '.join(args)}: stdout is not JSON ({e}); rc={p.returncode}"
                        f"\nstdout:\n{out[:3000]}\nstderr:\n{err[-2000:]}")
    return WWRun(p.returncode, data, out, err)


@pytest.fixture(scope="session")
def ww():
    return run_ww


def scan_one(path, *extra, timeout=300):
    r = run_ww("scan", *extra, path, timeout=timeout)
    assert r.json is not None, f"no JSON output for {path}: rc={r.rc} stderr={r.stderr[-2000:]}"
    files = r.json.get("files")
    assert isinstance(files, list) and len(files) == 1, (
        f"expected exactly one file entry for {path}, got {files!r:.2000}")
    return r.rc, files[0], r


@pytest.fixture(scope="session")
def ww_scan():
    return scan_one


@pytest.fixture(scope="session")
def shared_dir():
    p = shared_path()
    if not p.is_dir():
        pytest.skip(f"shared reference directory {p} not found (set WW_SHARED)")
    return p


# ----------------------------------------------------------------------------- fixture files

def _generator_scripts():
    return sorted(GEN_DIR.glob("make_*.py"))


def _fixture_key():
    h = hashlib.sha256()
    for f in sorted(GEN_DIR.glob("*.py")) + [DEMO_SCRIPT]:
        if f.exists():
            h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def _generate_into(dest):
    dest.mkdir(parents=True, exist_ok=True)
    procs = []
    for script in _generator_scripts():
        procs.append((script.name, subprocess.Popen(
            [PYTHON, str(script), str(dest)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)))
    if DEMO_SCRIPT.exists():
        procs.append((DEMO_SCRIPT.name, subprocess.Popen(
            [PYTHON, str(DEMO_SCRIPT), str(dest / "demo")], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)))
    failed = []
    for name, p in procs:
        out, _ = p.communicate(timeout=600)
        if p.returncode != 0:
            failed.append(f"{name} (rc {p.returncode}):\n{out.decode('utf-8', 'replace')[-4000:]}")
    if failed:
        raise RuntimeError("fixture generation failed:\n" + "\n".join(failed))
    (dest / ".complete").write_text(time.strftime("%Y-%m-%d %H:%M:%S\n"))


_FIXTURE_DIR = None


def get_fixture_dir():
    """Generate (once per process, cached on disk per generator version) and return the dir."""
    global _FIXTURE_DIR
    if _FIXTURE_DIR is not None:
        return _FIXTURE_DIR
    regen = os.environ.get("WW_FIXTURES_REGEN") == "1"
    override = os.environ.get("WW_FIXTURES_DIR")
    if override:
        d = Path(override)
        if regen and d.exists():
            shutil.rmtree(d)
        if not (d / ".complete").exists():
            _generate_into(d)
        _FIXTURE_DIR = d
        return d
    base = Path(tempfile.gettempdir())
    d = base / f"weightwall-fixtures-{os.getuid()}-{_fixture_key()}"
    if regen or not (d / ".complete").exists():
        tmp = Path(tempfile.mkdtemp(prefix="weightwall-fixtures-tmp-", dir=base))
        try:
            _generate_into(tmp)
            if d.exists():
                shutil.rmtree(d, ignore_errors=True)
            try:
                os.rename(tmp, d)
            except OSError:  # another session won the race: use theirs
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    _FIXTURE_DIR = d
    _remove_stale(base, d)
    return d


def _remove_stale(base, keep):
    """Drop fixture dirs of older generator versions (unused for an hour)."""
    now = time.time()
    for p in base.glob(f"weightwall-fixtures-{os.getuid()}-*"):
        try:
            if p != keep and p.is_dir() and now - p.stat().st_mtime > 3600:
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass


@pytest.fixture(scope="session")
def fixture_dir():
    return get_fixture_dir()


def load_cases(scripts=None, prefixes=None, exclude_prefixes=None):
    d = get_fixture_dir()
    cases = []
    for f in sorted(d.glob("*.cases.json")):
        script = f.name[: -len(".cases.json")]
        if scripts and script not in scripts:
            continue
        for c in json.loads(f.read_text()):
            if prefixes and not any(c["id"].startswith(p) for p in prefixes):
                continue
            if exclude_prefixes and any(c["id"].startswith(p) for p in exclude_prefixes):
                continue
            c["path"] = str(d / c["id"])
            cases.append(c)
    return cases


def pytest_generate_tests(metafunc):
    """Parametrize `ww_case` from the module's WW_CASES: a list of selectors
    {"scripts": [...], "prefixes": [...], "exclude_prefixes": [...]} (all optional)."""
    if "ww_case" in metafunc.fixturenames:
        cases = []
        for sel in getattr(metafunc.module, "WW_CASES", [{}]):
            cases += load_cases(sel.get("scripts"), sel.get("prefixes"),
                                sel.get("exclude_prefixes"))
        metafunc.parametrize("ww_case", cases,
                             ids=[f'{c["script"][5:]}:{c["id"]}' for c in cases])


# ----------------------------------------------------------------------------- expectations

def sev_rank(s):
    return 0 if s in (None, "NONE") else SEVERITIES.index(s) + 1


def describe(entry):
    lines = [f"verdict={entry.get('verdict')} max_severity={entry.get('max_severity')} "
             f"format={entry.get('format')} skipped={entry.get('skipped')} "
             f"status={entry.get('status')}"]
    for f in entry.get("findings") or []:
        lines.append(f"  finding {f.get('severity')} {f.get('kind')} "
                     f"{f.get('module')!s} {f.get('name')!s} member={f.get('member')!r} "
                     f"- {str(f.get('message'))[:160]}")
    for e in entry.get("errors") or []:
        lines.append(f"  error {e.get('kind')} member={e.get('member')!r} "
                     f"- {str(e.get('message'))[:160]}")
    layers = entry.get("layers") or []
    if layers:
        lines.append("  layers: " + ", ".join(f"{l.get('member') or '<file>'}={l.get('format')}"
                                              for l in layers[:12]))
    return "\n".join(lines)


def findings_naming(entry, alternatives):
    alts = {(m, n) for m, n in alternatives}
    return [f for f in entry.get("findings") or [] if (f.get("module"), f.get("name")) in alts]


def check_expectation(exp, rc, entry, label=""):
    """Assert one expectation dict (fixlib.Cases format) against a JSON file entry."""
    where = f"{label or exp.get('id')}: expected {exp['verdict']}"
    if exp.get("severity"):
        where += f" {exp['severity']}"
    elif exp.get("min_severity"):
        where += f" >= {exp['min_severity']}"
    info = f"{where}\n  rc={rc}\n" + describe(entry)
    if exp.get("note"):
        info += f"\n  note: {exp['note']}"
    verdict = entry.get("verdict")
    errors = entry.get("errors") or []
    want = exp["verdict"]
    assert rc in (0, 1, 2), f"unexpected exit code {rc}\n{info}"
    if want == "clean":
        assert verdict == "clean", f"benign file not clean\n{info}"
        assert rc == 0, f"clean file but exit code {rc}\n{info}"
        assert not errors, f"clean file with errors\n{info}"
        assert sev_rank(entry.get("max_severity")) < sev_rank("MEDIUM"), info
        if exp.get("model"):
            assert not entry.get("skipped"), f"model file skipped as not-a-model\n{info}"
            assert entry.get("format") not in (None, "unknown"), f"model format not detected\n{info}"
    elif want == "unsafe":
        assert verdict == "unsafe", f"verdict {verdict!r}\n{info}"
        assert rc in ((1, 2) if errors else (1,)), f"unsafe file but exit code {rc}\n{info}"
    elif want == "error":
        assert verdict == "error", f"verdict {verdict!r}\n{info}"
        assert rc == 2, f"error verdict but exit code {rc}\n{info}"
    elif want == "notclean":
        assert verdict in ("unsafe", "error"), f"verdict {verdict!r} (must never be clean)\n{info}"
        assert rc in (1, 2), f"exit code {rc}\n{info}"
    else:
        raise AssertionError(f"bad expectation {want}")
    got = entry.get("max_severity")
    if exp.get("severity"):
        assert got == exp["severity"], f"max_severity {got!r}, want {exp['severity']}\n{info}"
    if exp.get("min_severity"):
        assert sev_rank(got) >= sev_rank(exp["min_severity"]), (
            f"max_severity {got!r}, want >= {exp['min_severity']}\n{info}")
    if exp.get("max_severity"):
        assert sev_rank(got) <= sev_rank(exp["max_severity"]), (
            f"max_severity {got!r}, want <= {exp['max_severity']}\n{info}")
    hits = []
    for req in exp.get("imports") or []:
        h = findings_naming(entry, req)
        assert h, (f"no finding names {' or '.join(m + '.' + n for m, n in req)}\n{info}")
        hits += h
    if exp.get("member"):
        pool = hits or (entry.get("findings") or [])
        assert any(exp["member"] in (f.get("member") or "") for f in pool), (
            f"no finding in a member containing {exp['member']!r}\n{info}")
    if exp.get("errors"):
        assert errors, f"expected the parse error to be reported too (fail closed)\n{info}"


@pytest.fixture(scope="session")
def check_case():
    return check_expectation


# ----------------------------------------------------------------------------- tallies

_PEER_TALLY = {}


@pytest.fixture(scope="session")
def peer_tally():
    return _PEER_TALLY


def pytest_terminal_summary(terminalreporter):
    t = _PEER_TALLY
    if not t:
        return
    tr = terminalreporter
    tr.section("weightwall peer-sample tally")
    for label in ("malicious", "benign", "malformed"):
        ok, total = t.get(label + "_ok", 0), t.get(label + "_total", 0)
        word = {"malicious": "flagged", "benign": "clean", "malformed": "not clean"}[label]
        tr.write_line(f"peer samples: {label} {word} {ok} / {total}")
    if t.get("failures"):
        tr.write_line("failing samples:")
        for line in sorted(t["failures"]):
            tr.write_line("  " + line)
