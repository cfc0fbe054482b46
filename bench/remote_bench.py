#!/usr/bin/python3
"""Remote-scan benchmark (prints figures; not a test).

Starts the loopback fake hub from tests/remote/hubserver.py, serves a sparse 1 GiB torch
checkpoint, a small benign repo and a malicious one, and times `weightwall scan` on:
  * the 1 GiB checkpoint by URL (ranged reads) and via hf://
  * the same with Range refused by the server (full download)   [--full to enable; slow]
  * hf:// of the small repos
each parsed in the sandbox (default: the child asks the parent for ranges) and in-process.
Reports wall time, exit code, requests and bytes the server sent.

  /usr/bin/python3 bench/remote_bench.py [--runs N] [--full] [--weightwall PATH]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "remote"))

import hubfixtures as F  # noqa: E402
from hubserver import HubServer, RepoFile  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--full", action="store_true", help="also time the Range-refused 1 GiB download")
    ap.add_argument("--weightwall", default=os.environ.get("WEIGHTWALL") or
                    os.path.join(HERE, "..", "build", "cli", "weightwall"))
    a = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        big = os.path.join(tmp, "big.bin")
        t0 = time.monotonic()
        size, sha = F.write_sparse_torch_zip(big, 1 << 28)
        print(f"fixture: {size} bytes sparse checkpoint in {time.monotonic() - t0:.2f}s")
        b = F.benign_repo_files()
        with HubServer() as hub:
            hub.add_repo("acme/big-model", {"config.json": b["config.json"],
                                            "pytorch_model.bin": RepoFile("pytorch_model.bin", big, sha256=sha)})
            hub.add_repo("acme/tiny-model", b)
            hub.add_repo("acme/evil-model", {"config.json": b["config.json"],
                                             "pytorch_model.bin": F.malicious_checkpoint()})
            env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
            env.update(HF_ENDPOINT=hub.url, HF_HOME=os.path.join(tmp, "hf"))
            cases = [
                ("1GiB by URL (ranged)", [hub.resolve_url("acme/big-model", "pytorch_model.bin")], True),
                ("1GiB via hf://", ["hf://acme/big-model"], True),
                ("tiny repo via hf://", ["hf://acme/tiny-model"], True),
                ("evil repo via hf://", ["hf://acme/evil-model"], True),
                ("1GiB by URL, Range refused", [hub.resolve_url("acme/big-model", "pytorch_model.bin")], False),
            ]
            print(f"{'case':32} {'parsing':10} {'exit':>4} {'best s':>8} {'median s':>9} "
                  f"{'requests':>8} {'bytes sent':>12}")
            for name, args, ranges in cases:
                if not ranges and not a.full:
                    continue
                hub.ranges_enabled = ranges
                # Default: parsed in the sandboxed child, which asks the parent for
                # ranges; --no-sandbox parses in-process (the broker's overhead).
                for mode, extra in (("sandbox", []), ("in-process", ["--no-sandbox"])):
                    times, rc, reqs, sent = [], None, 0, 0
                    for _ in range(a.runs):
                        hub.reset_log()
                        t = time.monotonic()
                        p = subprocess.run([a.weightwall, "scan", "-q"] + extra + args, env=env,
                                           capture_output=True, timeout=600)
                        times.append(time.monotonic() - t)
                        rc = p.returncode
                        reqs, sent = len(hub.log), hub.bytes_sent()
                    times.sort()
                    print(f"{name:32} {mode:10} {rc:>4} {times[0]:>8.3f} "
                          f"{times[len(times) // 2]:>9.3f} {reqs:>8} {sent:>12}")

if __name__ == "__main__":
    main()
