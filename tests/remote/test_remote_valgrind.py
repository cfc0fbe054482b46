"""Remote scans under valgrind: the HTTP client, the Hub listing and the read
broker that feeds the sandboxed child (the parent is what valgrind checks; the
child's parsers are checked in-process by tests/cli/test_valgrind.py)."""
import os
import shutil
import subprocess

import pytest

from conftest import WEIGHTWALL, base_env

pytestmark = pytest.mark.skipif(os.environ.get("WW_SANITIZED") == "1",
                                reason="ASan builds cannot run under valgrind")


@pytest.mark.parametrize("target,ranges,expect", [
    ("hf://acme/evil-model", True, 1),
    ("hf://acme/big-model", True, 0),        # 1 GiB: ranged reads through the broker
    ("hf://acme/tiny-model", False, 0),      # ranges refused: whole downloads
    ("url:acme/evil-model", False, 1),
])
def test_remote_scan_is_valgrind_clean(hub, tmp_path, target, ranges, expect):
    vg = shutil.which("valgrind")
    assert vg, "valgrind is not installed (scripts/install-deps.sh installs it)"
    hub.ranges_enabled = ranges
    if target.startswith("url:"):
        target = hub.resolve_url(target[4:], "pytorch_model.bin")
    env = base_env(tmp_path, HF_ENDPOINT=hub.url)
    p = subprocess.run([vg, "-q", "--error-exitcode=99", "--leak-check=full",
                        "--errors-for-leak-kinds=definite,indirect,possible", WEIGHTWALL,
                        "scan", "--format", "json", target], env=env, capture_output=True,
                       text=True, timeout=300)
    report = "\n".join(l for l in p.stderr.splitlines() if l.startswith("=="))
    assert p.returncode == expect and not report, f"exit {p.returncode}\n{report[-8000:]}\n{p.stdout[-3000:]}"
