"""The sandbox: local files are parsed in a confined child process. Every kill
path ends in an error for that file (exit 2, never clean) and the scan goes on
with the next file."""
import io
import json
import os
import subprocess
import zipfile

import pytest

ROOT = os.environ.get("WW_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
WW = os.environ.get("WEIGHTWALL", os.path.join(ROOT, "build", "cli", "weightwall"))
EVIL = b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."
PLAIN = b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s."


def scan(*args, timeout=120):
    p = subprocess.run([WW, "scan", "--format", "json", *args], capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, json.loads(p.stdout), p.stderr


@pytest.fixture()
def files(tmp_path):
    (tmp_path / "a_evil.pkl").write_bytes(EVIL)
    (tmp_path / "b_plain.pkl").write_bytes(PLAIN)
    return tmp_path


def test_sandboxed_and_in_process_agree(files):
    rc1, d1, _ = scan(str(files))
    rc2, d2, _ = scan("--no-sandbox", str(files))
    assert rc1 == rc2 == 1
    strip = lambda d: [(f["path"], f["verdict"], f["max_severity"],
                        sorted((x["module"], x["name"]) for x in f["findings"] if x["module"]))
                       for f in d["files"]]
    assert strip(d1) == strip(d2)


@pytest.mark.parametrize("what,expect", [
    ("execve", "seccomp"), ("socket", "seccomp"), ("open", "seccomp"),
    ("cpu", "CPU limit"), ("hang", "ran out of time"), ("memory", "memory limit")])
def test_kill_paths_are_errors_and_the_scan_goes_on(files, what, expect):
    if what == "memory" and os.environ.get("WW_SANITIZED") == "1":
        pytest.skip("ASan builds cannot limit address space (shadow memory)")
    rc, doc, _ = scan("--sandbox-selftest", what, "--sandbox-cpu", "2", "--sandbox-memory", "64M",
                      str(files), timeout=60)
    assert rc == 2
    assert len(doc["files"]) == 2  # both files reported: one kill does not stop the scan
    for f in doc["files"]:
        assert f["verdict"] == "error"
        assert expect in f["error"], f["error"]


def test_memory_limit_triggered_by_input(tmp_path):
    if os.environ.get("WW_SANITIZED") == "1":
        pytest.skip("ASan builds cannot limit address space (shadow memory)")
    # A pickle member (BINBYTES8 of 200 MB of zeros) deflated in a zip: with the
    # ratio limit lifted the child must inflate it whole, and the sandbox's
    # address-space limit refuses the memory.
    n = 200 << 20
    payload = b"\x80\x04\x8e" + n.to_bytes(8, "little") + b"\0" * n + b"\x94."
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("payload.pkl", payload)
    p = tmp_path / "bomb.zip"
    p.write_bytes(buf.getvalue())
    rc, doc, _ = scan("--sandbox-memory", "64M", "--limit", "max_ratio=100000000", str(p))
    f = doc["files"][0]
    assert rc == 2 and f["verdict"] == "error"
    assert f["status"] in ("nomem", "limit", "internal"), f
    assert "memory" in (f["error"] or "") or f["status"] == "nomem", f
    # Without the sandbox's memory limit the same file is fully scanned: clean.
    rc3, doc3, _ = scan("--no-sandbox", "--limit", "max_ratio=100000000", str(p))
    assert rc3 == 0, doc3
    rc2, doc2, _ = scan("--sandbox-memory", "64M", str(p))
    assert rc2 != 0 and doc2["files"][0]["verdict"] != "clean"  # the ratio limit alone


@pytest.mark.parametrize("how", ["pipe", "file"])
def test_stdin_is_parsed_in_the_sandbox(files, how):
    """Standard input goes through the confined child too: piped bytes are held
    in an anonymous memory file, a redirected file is passed as it is. The
    selftest's forbidden syscall kills the child, so the result is an error."""
    data = EVIL
    def run(*args):
        cmd = [WW, "scan", "--format", "json", *args, "-"]
        if how == "pipe":
            p = subprocess.run(cmd, input=data, capture_output=True, timeout=60)
        else:
            with open(files / "a_evil.pkl", "rb") as fh:
                p = subprocess.run(cmd, stdin=fh, capture_output=True, timeout=60)
        return p.returncode, json.loads(p.stdout)
    rc, doc = run("--sandbox-selftest", "execve")
    assert rc == 2
    f = doc["files"][0]
    assert f["path"] == "<stdin>" and f["verdict"] == "error" and "seccomp" in f["error"], f
    rc, doc = run()
    assert rc == 1 and doc["files"][0]["max_severity"] == "CRITICAL", doc
    rc2, doc2 = run("--no-sandbox")
    assert rc2 == 1 and doc2["files"][0]["findings"] == doc["files"][0]["findings"]


def test_piped_stdin_over_the_limit_is_an_error():
    """A pipe is held whole for the child, so its size is capped; over the cap
    the input is an error naming the limit, never clean."""
    for extra in ([], ["--no-sandbox"]):
        p = subprocess.run([WW, "scan", "--format", "json", "--limit",
                            "max_inflated_bytes=100000", *extra, "-"],
                           input=b"\0" * 300000, capture_output=True, timeout=60)
        f = json.loads(p.stdout)["files"][0]
        assert p.returncode == 2 and f["verdict"] == "error" and f["status"] == "limit", f
