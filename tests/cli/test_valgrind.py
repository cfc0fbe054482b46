"""The CLI's end-to-end cases under valgrind (memcheck): no invalid access, no
use of uninitialised memory, no leak, with the same exit code as without
valgrind. Parsers run in-process here (--no-sandbox: valgrind cannot follow a
seccomp-confined child), the sandboxed runs check the parent and the broker.
ASan builds cannot run under valgrind; the suite's plain build runs these."""
import os
import shutil
import subprocess

import pytest

ROOT = os.environ.get("WW_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
WW = os.environ.get("WEIGHTWALL", os.path.join(ROOT, "build", "cli", "weightwall"))
SHARED = os.environ.get("WW_SHARED", os.path.join(ROOT, "..", "shared"))
VG_FAIL = 99

pytestmark = pytest.mark.skipif(os.environ.get("WW_SANITIZED") == "1",
                                reason="ASan builds cannot run under valgrind")


def valgrind(*args, timeout=600):
    vg = shutil.which("valgrind")
    assert vg, "valgrind is not installed (scripts/install-deps.sh installs it)"
    cmd = [vg, "-q", f"--error-exitcode={VG_FAIL}", "--leak-check=full",
           "--show-leak-kinds=definite,indirect,possible",
           "--errors-for-leak-kinds=definite,indirect,possible", WW, *map(str, args)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    plain = subprocess.run([WW, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    report = "\n".join(l for l in p.stderr.splitlines() if l.startswith("=="))
    assert p.returncode != VG_FAIL and not report, f"valgrind: {' '.join(cmd)}\n{report[-8000:]}"
    assert p.returncode == plain.returncode, (p.returncode, plain.returncode, p.stderr[-2000:])
    return p


def test_every_format_in_process(fixture_dir):
    """Real fixtures (torch, numpy, joblib, sklearn, archives), the peers'
    samples, the malformed set and every committed fuzz input: each parser."""
    inputs = [fixture_dir, os.path.join(ROOT, "tests", "formats", "malformed"),
              os.path.join(ROOT, "fuzz", "corpus")]
    if os.path.isdir(os.path.join(SHARED, "peer-samples")):
        inputs.append(os.path.join(SHARED, "peer-samples"))
    p = valgrind("scan", "--no-sandbox", "-j", "2", "--format", "json", *inputs)
    assert p.returncode in (1, 2)


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_sandboxed_scan_reports(fixture_dir, fmt):
    p = valgrind("scan", "-j", "2", "--format", fmt, fixture_dir / "demo",
                 fixture_dir / "torch")
    assert p.returncode == 1


def test_stdin_and_policy(fixture_dir):
    with open(fixture_dir / "demo" / "test_critical.pkl", "rb") as fh:
        vg = shutil.which("valgrind")
        p = subprocess.run([vg, "-q", f"--error-exitcode={VG_FAIL}", "--leak-check=full",
                            "--errors-for-leak-kinds=definite,indirect,possible", WW, "scan",
                            "-"], stdin=fh, capture_output=True, text=True, timeout=300)
    assert p.returncode == 1, p.stderr[-8000:]
    pol = os.path.join(ROOT, "policies")
    valgrind("scan", "--policy", os.path.join(pol, "cloudsmith-scan-summary.rego"),
             fixture_dir / "demo")
    valgrind("policy", "check", *sorted(os.path.join(pol, f) for f in os.listdir(pol)
                                        if f.endswith(".rego")))
    valgrind("policy", "input", fixture_dir / "demo")
    valgrind("formats")
    valgrind("limits")
