"""Fixtures for the gate suite: the loopback hub (tests/remote/hubserver.py) as upstream, gates
(`weightwall serve`) started per test on 127.0.0.1, a real PostgreSQL server for the shared
backend, and an HTTP client that follows huggingface_hub's download protocol.

Run: /usr/bin/python3 -m pytest -q tests/serve   (WEIGHTWALL=path/to/weightwall to choose the
binary; default build/cli/weightwall, else build-gate/cli/weightwall)."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "remote"))
sys.path.insert(0, HERE)

import hubfixtures as F  # noqa: E402
from hubserver import HubServer, RepoFile, fake_commit  # noqa: E402,F401


def _find_weightwall():
    env = os.environ.get("WEIGHTWALL")
    if env:
        return env
    for d in ("build", "build-gate"):
        p = os.path.join(ROOT, d, "cli", "weightwall")
        if os.access(p, os.X_OK):
            return p
    return os.path.join(ROOT, "build", "cli", "weightwall")


WEIGHTWALL = _find_weightwall()
TOKEN = "hf_test_token"
ADMIN = "admin-secret-token"
# The article's policy 1, verbatim (quarantine anything whose scan_summary is not SAFE).
POLICY = os.path.join(ROOT, "policies", "cloudsmith-scan-summary.rego")
if not os.path.exists(POLICY):
    POLICY = os.path.join(HERE, "scan_summary.rego")
BIG_NUMEL = 1 << 26                          # 256 MiB tensor: large enough to take the ranged path


def sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


# ------------------------------------------------------------------------------------------
# fixture content

def write_sparse_malicious(path, numel):
    """A big torch zip whose data.pkl calls posix.system before the real state dict."""
    orig = F.torch_data_pkl

    def evil(n, key="weight"):
        b = orig(n, key)
        return b[:2] + F.POSIX_SYSTEM_PREFIX + b[2:]
    F.torch_data_pkl = evil
    try:
        return F.write_sparse_torch_zip(path, numel)
    finally:
        F.torch_data_pkl = orig


class Fixtures:
    pass


@pytest.fixture(scope="session")
def fx(tmp_path_factory):
    d = tmp_path_factory.mktemp("gatefixtures")
    x = Fixtures()
    x.benign = F.benign_repo_files()
    x.evil_bin = F.malicious_checkpoint("posix_system")
    x.eval_bin = F.malicious_checkpoint("eval")
    import torch
    g = torch.Generator().manual_seed(7)               # a 6 MiB safetensors blob for load tests
    x.medium = F.safetensors_bytes({"w": torch.randn(3 << 19, generator=g)})
    big = d / "big_benign.bin"
    x.big_size, x.big_sha = F.write_sparse_torch_zip(big, BIG_NUMEL)
    x.big_path = big
    bad = d / "big_evil.bin"
    x.bigevil_size, x.bigevil_sha = write_sparse_malicious(bad, BIG_NUMEL)
    x.bigevil_path = bad
    return x


@pytest.fixture(scope="session")
def hub_session(fx):
    with HubServer(page_size=2, tokens=(TOKEN,), max_lifetime=900) as hub:
        b = fx.benign
        hub.add_repo("acme/tiny-model", dict(b), revisions={
            "main": fake_commit("gate-tiny", "main"), "refs/pr/1": fake_commit("gate-tiny", "pr1")})
        hub.add_repo("acme/evil-model", {"config.json": b["config.json"],
                                         "pytorch_model.bin": fx.evil_bin,
                                         "README.md": b["README.md"]})
        for name in ("evil-release-sqlite", "evil-release-postgresql", "evil-restart-sqlite",
                     "evil-restart-postgresql", "evil-nodes", "evil-web"):
            hub.add_repo(f"acme/{name}", {"config.json": b["config.json"],
                                          "pytorch_model.bin": fx.eval_bin})
        hub.add_repo("ykilcher/totally-harmless-model", {"config.json": b["config.json"],
                                                         "pytorch_model.bin": fx.eval_bin})
        hub.add_repo("acme/private-model", dict(b), private=True)
        hub.add_repo("acme/paged-model", {"README.md": b["README.md"],
                                          "config.json": b["config.json"],
                                          "weights/deep/model.safetensors": b["model.safetensors"]},
                     siblings_in_info=False)
        hub.add_repo("acme/load-model", {"config.json": b["config.json"],
                                         "blob.safetensors": fx.medium,
                                         "model.safetensors": b["model.safetensors"]})
        hub.add_repo("acme/flaky-model", {"config.json": b["config.json"],
                                          "model.safetensors": b["model.safetensors"]})
        hub.add_repo("acme/liar-model", {"config.json": b["config.json"],
                                         "model.safetensors": RepoFile(
                                             "model.safetensors", b["model.safetensors"],
                                             sha256="ab" * 32)})
        hub.add_repo("acme/big-model", {"config.json": b["config.json"],
                                        "pytorch_model.bin": RepoFile(
                                            "pytorch_model.bin", fx.big_path, sha256=fx.big_sha)})
        hub.add_repo("acme/big-evil-model", {"config.json": b["config.json"],
                                             "pytorch_model.bin": RepoFile(
                                                 "pytorch_model.bin", fx.bigevil_path,
                                                 sha256=fx.bigevil_sha)})
        yield hub


@pytest.fixture
def hub(hub_session):
    h = hub_session
    h.reset()
    yield h
    h.reset()


# ------------------------------------------------------------------------------------------
# the gate

class HFError(Exception):
    def __init__(self, status, headers, body, method):
        self.status = status
        self.headers = headers
        self.body = body
        self.method = method
        super().__init__(f"{method} -> {status} {headers.get('x-error-code')}: "
                         f"{headers.get('x-error-message')} {body[:300]!r}")

    @property
    def code(self):
        return self.headers.get("x-error-code")

    @property
    def message(self):
        return self.headers.get("x-error-message")


def request(url, method="GET", headers=None, body=None, timeout=60):
    """One HTTP request with http.client (no redirects). Returns (status, headers, body)."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        path = u.path + ("?" + u.query if u.query else "")
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


class Gate:
    def __init__(self, exe, upstream, store, db=None, policy=POLICY, extra=(), name="gate",
                 logdir=None):
        self.exe = exe
        self.upstream = upstream
        self.store = str(store)
        self.db = db
        self.policy = policy
        self.extra = list(extra)
        self.name = name
        self.logdir = logdir or self.store
        self.proc = None
        self.url = None

    def start(self, timeout=20):
        ready = os.path.join(self.logdir, f"{self.name}.ready")
        if os.path.exists(ready):
            os.unlink(ready)
        args = [self.exe, "serve", "--upstream", self.upstream, "--listen", "127.0.0.1:0",
                "--store", self.store, "--policy", self.policy, "--admin-token", ADMIN,
                "--ready-file", ready, "--exit-after", "600", "--node", self.name] + self.extra
        if self.db:
            args += ["--db", self.db]
        self.log_path = os.path.join(self.logdir, f"{self.name}.log")
        self._log = open(self.log_path, "ab")
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=self._log,
                                     stdin=subprocess.DEVNULL, env=env)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if os.path.exists(ready):
                self.url = open(ready).read().strip()
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"gate did not start (rc={self.proc.poll()}):\n{self.log()}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self._log.close()
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        return rc

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-8000:]
        except OSError:
            return ""

    def log_lines(self):
        out = []
        with open(self.log_path, "rb") as f:
            for line in f.read().decode("utf-8", "replace").splitlines():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    out.append({"raw": line})
        return out

    # -- plain requests
    def req(self, path, method="GET", headers=None, body=None, timeout=60):
        return request(self.url + path, method, headers, body, timeout)

    def admin(self, path, method="GET", body=None):
        h = {"Authorization": f"Bearer {ADMIN}"}
        if body is not None:
            body = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        st, hd, data = self.req(path, method, h, body)
        return st, (json.loads(data) if data and hd.get("content-type", "").startswith(
            "application/json") else data)

    # -- huggingface_hub's protocol (hf-protocol.md §2): HEAD without redirects, then GET
    def hf_metadata(self, repo, filename, rev="main", token=None, timeout=10):
        url = f"{self.url}/{repo}/resolve/{urllib.parse.quote(rev, safe='')}/" \
              f"{urllib.parse.quote(filename, safe='/')}"
        h = {"Accept-Encoding": "identity", "user-agent": "hf_hub/0.36.2; python/3.11"}
        if token:
            h["authorization"] = f"Bearer {token}"
        for _ in range(5):
            st, hd, body = request(url, "HEAD", h, timeout=timeout)
            if 300 <= st < 400 and hd.get("location", "").startswith("/"):
                url = self.url + hd["location"]
                continue
            break
        if st >= 400:
            raise HFError(st, hd, body, "HEAD")
        etag = (hd.get("x-linked-etag") or hd.get("etag") or "")
        etag = etag.removeprefix("W/").strip('"')
        size = int(hd.get("x-linked-size") or hd.get("content-length") or -1)
        commit = hd.get("x-repo-commit")
        assert commit and etag and size >= 0, f"HEAD misses the header contract: {hd}"
        location = hd.get("location") or url
        return {"commit": commit, "etag": etag, "size": size, "url": location, "headers": hd}

    def hf_download(self, repo, filename, rev="main", token=None, resume=b"", timeout=30):
        meta = self.hf_metadata(repo, filename, rev, token)
        h = {}
        if token and urllib.parse.urlsplit(meta["url"]).netloc == \
                urllib.parse.urlsplit(self.url).netloc:
            h["authorization"] = f"Bearer {token}"
        if resume:
            h["Range"] = f"bytes={len(resume)}-"
        st, hd, body = request(meta["url"], "GET", h, timeout=timeout)
        if st >= 400:
            raise HFError(st, hd, body, "GET")
        if resume:
            assert st == 206, f"resume answered {st}, not 206"
            assert hd["content-range"] == \
                f"bytes {len(resume)}-{meta['size'] - 1}/{meta['size']}", hd
            body = resume + body
        else:
            assert st == 200, st
        assert len(body) == meta["size"], \
            f"Consistency check failed: {len(body)} bytes, HEAD said {meta['size']}"
        return body, meta


@pytest.fixture(scope="session")
def weightwall_exe():
    if not os.access(WEIGHTWALL, os.X_OK):
        pytest.fail(f"weightwall not found at {WEIGHTWALL} (build it or set WEIGHTWALL)")
    r = subprocess.run([WEIGHTWALL, "serve", "--help"], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail(f"{WEIGHTWALL} has no working `serve` command:\n{r.stderr}")
    return WEIGHTWALL


@pytest.fixture
def make_gate(weightwall_exe, hub, tmp_path):
    gates = []

    def _make(store=None, db=None, upstream=None, name=None, **kw):
        name = name or f"gate{len(gates)}"
        store = store or (tmp_path / f"store-{name}")
        g = Gate(weightwall_exe, upstream or hub.url, store, db=db, name=name,
                 logdir=str(tmp_path), **kw)
        gates.append(g)
        return g.start()
    yield _make
    for g in gates:
        g.stop()


@pytest.fixture
def gate(make_gate):
    return make_gate()


# ------------------------------------------------------------------------------------------
# PostgreSQL: a real server in a temporary directory, started for the session

PG_BIN = "/usr/lib/postgresql/15/bin"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres():
    initdb = os.path.join(PG_BIN, "initdb")
    if not os.access(initdb, os.X_OK):
        pytest.skip(f"PostgreSQL server binaries not found in {PG_BIN} "
                    f"(apt-get install -y postgresql)")
    d = tempfile.mkdtemp(prefix="ww-pg-")
    data = os.path.join(d, "data")
    prefix = []
    if os.getuid() == 0:                      # initdb refuses to run as root
        prefix = ["runuser", "-u", "postgres", "--"]
        shutil.chown(d, "postgres", "postgres")
    port = _free_port()
    log = os.path.join(d, "pg.log")

    def run(*cmd, **kw):
        return subprocess.run(prefix + list(cmd), capture_output=True, text=True, **kw)
    r = run(initdb, "-D", data, "-A", "trust", "-U", "ww", "--no-sync", "-E", "UTF8",
            timeout=120)
    if r.returncode != 0:
        shutil.rmtree(d, ignore_errors=True)
        pytest.fail(f"initdb failed:\n{r.stdout}\n{r.stderr}")
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {d} -c fsync=off"
    r = run(os.path.join(PG_BIN, "pg_ctl"), "-D", data, "-l", log, "-o", opts, "-w",
            "-t", "60", "start", timeout=90)
    if r.returncode != 0:
        shutil.rmtree(d, ignore_errors=True)
        pytest.fail(f"pg_ctl start failed:\n{r.stdout}\n{r.stderr}")
    dbs = []

    def new_db(name):
        rr = run(os.path.join(PG_BIN, "createdb"), "-h", "127.0.0.1", "-p", str(port),
                 "-U", "ww", name, timeout=30)
        assert rr.returncode == 0, rr.stderr
        dbs.append(name)
        return f"postgresql://ww@127.0.0.1:{port}/{name}"
    try:
        yield new_db
    finally:
        run(os.path.join(PG_BIN, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop",
            timeout=60)
        shutil.rmtree(d, ignore_errors=True)


_DB_COUNTER = [0]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path):
    """Database URL for one gate cluster: SQLite in tmp, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return "sqlite", f"sqlite:{tmp_path}/gate.db"
    pg = request.getfixturevalue("postgres")
    _DB_COUNTER[0] += 1
    return "postgresql", pg(f"gate{_DB_COUNTER[0]}")


def set_fault(hub, repo, path, spec, repo_type="model"):
    """Inject `spec` for one file whatever revision it is resolved by (name or commit)."""
    r = hub.repos[(repo_type, repo)]
    for rev in ["main"] + sorted(set(r.revisions.values())):
        hub.faults[hub.resolve_path(repo, path, rev, repo_type)] = spec
    return spec


def parallel(fn, args, threads=32):
    """Run fn(*a) for each a in args on `threads` threads; return results in order."""
    out = [None] * len(args)
    errs = []
    lock = threading.Lock()
    it = iter(enumerate(args))

    def worker():
        while True:
            with lock:
                try:
                    i, a = next(it)
                except StopIteration:
                    return
            try:
                out[i] = fn(*a)
            except BaseException as e:       # noqa: BLE001 - reported below
                errs.append(e)
    ts = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=300)
    if errs:
        raise errs[0]
    return out
