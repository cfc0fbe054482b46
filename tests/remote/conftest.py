"""Fixtures for the remote suite: the loopback hub (hubserver.py) with its repos, and a runner
for the weightwall CLI.

Run: /usr/bin/python3 -m pytest -q tests/remote  (WEIGHTWALL=path/to/weightwall to override
the default /work/main/build/cli/weightwall)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hubfixtures as F  # noqa: E402
from hubserver import HubServer, RepoFile, fake_commit  # noqa: E402

_DEFAULT_WW = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                           "build", "cli", "weightwall")
WEIGHTWALL = os.environ.get("WEIGHTWALL") or os.path.normpath(_DEFAULT_WW)
if not os.path.exists(WEIGHTWALL) and os.path.exists("/work/main/build/cli/weightwall"):
    WEIGHTWALL = "/work/main/build/cli/weightwall"

TOKEN = "hf_test_token"
GATED_MESSAGE = ("Access to model acme/gated-model is restricted and you are not in the "
                 "authorized list. Visit https://huggingface.co/acme/gated-model to ask for access.")
BIG_NUMEL = 1 << 28                          # 2^28 float32 = 1 GiB tensor


class Result:
    def __init__(self, proc, args, elapsed):
        self.args = args
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr
        self.elapsed = elapsed
        self._json = None

    @property
    def text(self):
        return self.out + "\n" + self.err

    @property
    def json(self):
        if self._json is None:
            try:
                self._json = json.loads(self.out)
            except ValueError as e:
                raise AssertionError(f"stdout is not JSON ({e}):\n{self}") from None
        return self._json

    def files(self):
        return self.json.get("files", [])

    def file(self, suffix):
        """The single result whose path ends with suffix."""
        hits = [f for f in self.files() if f.get("path", "").endswith(suffix)]
        assert len(hits) == 1, f"expected one result ending with {suffix!r}, got " \
            f"{[f.get('path') for f in self.files()]}\n{self}"
        return hits[0]

    def __str__(self):
        return (f"$ {' '.join(self.args)}\nexit {self.rc} after {self.elapsed:.2f}s\n"
                f"--- stdout ---\n{self.out[-6000:]}\n--- stderr ---\n{self.err[-3000:]}")


def base_env(tmp_home, **extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HF_", "HUGGINGFACE_")) and k not in ("XDG_CACHE_HOME",)}
    env["HOME"] = str(tmp_home)              # no stray ~/.cache/huggingface/token
    env["HF_HOME"] = os.path.join(str(tmp_home), "hf_home")
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,127.0.0.2,localhost"
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        env.pop(k, None)
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def run_ww(args, env, timeout=60):
    cmd = [WEIGHTWALL] + [str(a) for a in args]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"weightwall did not finish within {timeout}s: {cmd}") from None
    r = Result(p, cmd, time.monotonic() - t0)
    assert r.rc >= 0, f"weightwall died from signal {-r.rc}\n{r}"
    return r


@pytest.fixture(scope="session")
def weightwall_exe():
    assert os.access(WEIGHTWALL, os.X_OK), f"weightwall CLI not found at {WEIGHTWALL} (set WEIGHTWALL)"
    return WEIGHTWALL


# ------------------------------------------------------------------------------------------
# Fixture repos

class Fixtures:
    pass


@pytest.fixture(scope="session")
def fx(tmp_path_factory):
    """All fixture content, built once per session with real torch."""
    d = tmp_path_factory.mktemp("hubfixtures")
    x = Fixtures()
    x.dir = d
    x.benign = F.benign_repo_files()
    x.evil_bin = F.malicious_checkpoint("posix_system")
    x.eval_bin = F.malicious_checkpoint("eval")
    x.raw_evil_pkl = F.RAW_POSIX_SYSTEM_PICKLE
    big = d / "big_pytorch_model.bin"
    x.big_size, x.big_sha = F.write_sparse_torch_zip(big, BIG_NUMEL)
    x.big_path = big
    return x


@pytest.fixture(scope="session")
def hub_session(fx):
    with HubServer(page_size=2, tokens=(TOKEN,)) as hub:
        hub.fx = fx
        b = fx.benign
        hub.commits = {}
        r = hub.add_repo("acme/tiny-model", dict(b), revisions={
            "main": fake_commit("tiny", "main"), "v1": fake_commit("tiny", "v1"),
            "refs/pr/1": fake_commit("tiny", "pr1")})
        hub.commits["acme/tiny-model"] = r.sha
        # sshleifer/tiny-distilbert-base-cased stand-in (the article's benign URL)
        hub.add_repo("sshleifer/tiny-distilbert-base-cased",
                     {"config.json": b["config.json"], "pytorch_model.bin": b["pytorch_model.bin"]})
        hub.add_repo("acme/evil-model", {"config.json": b["config.json"],
                                         "pytorch_model.bin": fx.evil_bin,
                                         "README.md": b["README.md"]})
        hub.add_repo("ykilcher/totally-harmless-model", {"config.json": b["config.json"],
                                                         "pytorch_model.bin": fx.eval_bin})
        hub.add_repo("acme/big-model", {
            "config.json": b["config.json"],
            "pytorch_model.bin": RepoFile("pytorch_model.bin", fx.big_path, sha256=fx.big_sha)})
        hub.add_repo("acme/private-model", dict(b), private=True)
        hub.add_repo("acme/gated-model", dict(b), gated="manual", gated_message=GATED_MESSAGE)
        # siblings missing from the model info: the client must page through the tree.
        hub.add_repo("acme/paged-model", {
            "README.md": b["README.md"], "config.json": b["config.json"],
            "docs/notes.txt": b"notes\n", "tokenizer_config.json": b["tokenizer_config.json"],
            "weights/deep/pytorch_model.bin": fx.evil_bin}, siblings_in_info=False)
        hub.add_repo("acme/paged-benign", {
            "README.md": b["README.md"], "config.json": b["config.json"],
            "docs/notes.txt": b"notes\n",
            "weights/deep/pytorch_model.bin": b["pytorch_model.bin"]}, siblings_in_info=False)
        hub.add_repo("acme/evil-dataset", {"README.md": b"# dataset\n",
                                           "data/train.pkl": fx.raw_evil_pkl},
                     repo_type="dataset")
        hub.add_repo("acme/benign-dataset", {"README.md": b"# dataset\n",
                                             "data/model.safetensors": b["model.safetensors"]},
                     repo_type="dataset")
        yield hub


@pytest.fixture
def hub(hub_session):
    """The session hub with faults, log, ranges and page size reset for each test."""
    h = hub_session
    h.reset()
    yield h
    h.reset()


@pytest.fixture
def ww(weightwall_exe, hub, tmp_path):
    """ww(*args, token=None, endpoint=<hub>, timeout=60, **env) -> Result."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)

    def _run(*args, token=None, endpoint=None, timeout=60, **env):
        e = base_env(home, HF_ENDPOINT=endpoint or hub.url, HF_TOKEN=token, **env)
        return run_ww(list(args), e, timeout=timeout)
    return _run


@pytest.fixture
def ww_local(weightwall_exe, tmp_path):
    """Runner without a hub (cache tests): ww_local(args, env_overrides) -> Result."""
    def _run(*args, timeout=60, home=None, **env):
        h = home or (tmp_path / "home")
        os.makedirs(h, exist_ok=True)
        e = base_env(h, **env)
        return run_ww(list(args), e, timeout=timeout)
    return _run
