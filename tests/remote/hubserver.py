"""A loopback Hugging Face Hub for weightwall's remote-scan tests.

Speaks the subset of the Hub protocol described in ../shared/docs/hf-protocol.md that a
scanner needs: model/dataset info, the paginated tree listing, `resolve` with the §2 header
contract (X-Repo-Commit, ETag / X-Linked-Etag, X-Linked-Size, 302 to a CDN host for "LFS"
files), Range requests, private and gated repos, error codes, injectable faults and a request
log. Two servers run: the hub (127.0.0.1) and a "CDN" on a different loopback address (or at
least a different port) that refuses any request carrying Authorization with 400, so a test can
prove the client drops the token across hosts.

    with HubServer() as hub:
        hub.add_repo("acme/tiny-model", {"config.json": b"{}", "pytorch_model.bin": path})
        hub.url, hub.cdn_url, hub.faults, hub.log, hub.ranges_enabled

File bodies are read from disk with seek, in chunks, so a 1 GB sparse checkpoint costs nothing
unless a client really downloads it. Only the standard library is used; every server thread is
a daemon and the servers stop when the context manager exits (or after `max_lifetime` seconds).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import struct
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LFS_THRESHOLD = 1024          # files larger than this are "LFS": sha256 etag + 302 to the CDN
CHUNK = 64 * 1024

_HEX40 = re.compile(r"^[0-9a-f]{40}$")


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def fake_commit(*parts: str) -> str:
    """A deterministic 40-hex commit id."""
    return hashlib.sha1("\0".join(parts).encode()).hexdigest()


class RepoFile:
    """One file of a repo: bytes in memory or a path on disk (served with seek)."""

    def __init__(self, path: str, content, sha256: str | None = None):
        self.path = path
        if isinstance(content, (bytes, bytearray)):
            self.data = bytes(content)
            self.disk = None
            self.size = len(self.data)
        else:
            self.data = None
            self.disk = os.fspath(content)
            self.size = os.path.getsize(self.disk)
        self._sha256 = sha256
        self._lock = threading.Lock()

    @property
    def lfs(self) -> bool:
        return self.size > LFS_THRESHOLD

    @property
    def sha256(self) -> str:
        with self._lock:
            if self._sha256 is None:
                h = hashlib.sha256()
                if self.data is not None:
                    h.update(self.data)
                else:
                    with open(self.disk, "rb") as f:
                        while True:
                            b = f.read(1 << 20)
                            if not b:
                                break
                            h.update(b)
                self._sha256 = h.hexdigest()
            return self._sha256

    def pointer(self) -> bytes:
        return (b"version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n"
                % (self.sha256.encode(), self.size))

    @property
    def git_oid(self) -> str:
        """git blob id: of the LFS pointer for LFS files, else of the content."""
        if self.lfs:
            return git_blob_sha1(self.pointer())
        return git_blob_sha1(self.read(0, self.size))

    def read(self, start: int, length: int) -> bytes:
        if self.data is not None:
            return self.data[start:start + length]
        with open(self.disk, "rb") as f:
            f.seek(start)
            return f.read(length)

    def iter_range(self, start: int, length: int):
        if self.data is not None:
            for off in range(start, start + length, CHUNK):
                yield self.data[off:min(off + CHUNK, start + length)]
            return
        with open(self.disk, "rb") as f:
            f.seek(start)
            left = length
            while left > 0:
                b = f.read(min(CHUNK, left))
                if not b:
                    return
                left -= len(b)
                yield b


class Repo:
    def __init__(self, repo_id, files, repo_type="model", private=False, gated=None,
                 gated_message=None, revisions=None, siblings_in_info=True, granted=()):
        self.repo_id = repo_id
        self.repo_type = repo_type
        self.files = {}
        for p, c in files.items():
            self.files[p] = c if isinstance(c, RepoFile) else RepoFile(p, c)
        self.private = private
        self.gated = gated                  # None/False, "auto" or "manual"
        self.gated_message = gated_message or (
            f"Access to model {repo_id} is restricted. You must have access to it and be "
            f"authenticated to access it. Please log in.")
        self.revisions = dict(revisions or {})
        self.revisions.setdefault("main", fake_commit(repo_type, repo_id, "main"))
        self.siblings_in_info = siblings_in_info
        self.granted = set(granted)         # tokens that may read a gated repo

    @property
    def sha(self) -> str:
        return self.revisions["main"]

    def resolve_rev(self, rev: str):
        if rev in self.revisions:
            return self.revisions[rev]
        if _HEX40.match(rev) and rev in self.revisions.values():
            return rev
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, addr, handler, hub, role):
        self.hub = hub
        self.role = role                    # "hub" or "cdn"
        super().__init__(addr, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakehub/1"
    timeout = 30                            # idle keep-alive connections end by themselves

    # ---- plumbing -----------------------------------------------------------------------
    def log_message(self, fmt, *args):      # keep pytest output clean
        pass

    @property
    def hub(self) -> "HubServer":
        return self.server.hub

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method):
        self._entry = {
            "server": self.server.role, "method": method, "path": self.path,
            "range": self.headers.get("Range"),
            "authorization": self.headers.get("Authorization"),
            "user_agent": self.headers.get("User-Agent"),
            "status": None, "bytes_sent": 0, "fault": None, "time": time.time(),
        }
        with self.hub._lock:
            self.hub.log.append(self._entry)
        try:
            if self.server.role == "cdn":
                self._cdn(method)
            else:
                self._hub(method)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, socket.timeout):
            self.close_connection = True

    # ---- faults ---------------------------------------------------------------------------
    def _take_fault(self, method, logical_path=None):
        """Return the fault spec that applies to this request (consuming one 'times')."""
        url_path = urllib.parse.urlsplit(self.path).path
        keys = [self.path, url_path]
        if logical_path:
            keys.append(logical_path)
        with self.hub._lock:
            for k in keys:
                spec = self.hub.faults.get(k)
                if spec is None:
                    continue
                if spec.get("methods") and method not in spec["methods"]:
                    continue
                where = spec.get("server", "any")
                if where != "any" and where != self.server.role:
                    continue
                seen = spec.get("_seen", 0)
                spec["_seen"] = seen + 1
                if seen < spec.get("skip", 0):  # let the first `skip` requests through
                    continue
                times = spec.get("times")
                used = spec.setdefault("_used", 0)
                if times is not None and used >= times:
                    continue
                spec["_used"] = used + 1
                return spec
        return None

    def _apply_pre_fault(self, spec) -> bool:
        """Faults that happen before any response. True if the request is finished."""
        self._entry["fault"] = {k: v for k, v in spec.items() if k not in ("_used", "_seen")}
        if spec.get("sleep"):
            self.hub._sleep(spec["sleep"])
        if spec.get("reset"):
            self._reset()
            return True
        if spec.get("status"):
            st = spec["status"]
            hdrs = dict(spec.get("headers") or {})
            self._send_error(st, spec.get("error_code"), spec.get("message", f"injected {st}"),
                             extra=hdrs)
            return True
        return False

    def _reset(self):
        self._entry["status"] = "reset"
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    # ---- responses ------------------------------------------------------------------------
    def _send_error(self, status, code=None, message=None, extra=None, body=True):
        self._entry["status"] = status
        payload = json.dumps({"error": message or ""}).encode() if message else b""
        self.send_response(status)
        if code:
            self.send_header("X-Error-Code", code)
        if message:
            self.send_header("X-Error-Message", message)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)
            self._entry["bytes_sent"] += len(payload)

    def _send_json(self, obj, extra=None):
        payload = json.dumps(obj).encode()
        self._entry["status"] = 200
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
            self._entry["bytes_sent"] += len(payload)

    def _parse_range(self, size):
        """None (no/ignored Range), (start, end) inclusive, or 'bad' for 416."""
        h = self.headers.get("Range")
        if not h or not self.hub.ranges_enabled:
            return None
        m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", h)
        if not m or (m.group(1) == "" and m.group(2) == ""):
            return None                      # multi-range or garbage: answer the full body
        a, b = m.group(1), m.group(2)
        if a == "":
            n = int(b)
            if n == 0:
                return "bad"
            return (max(0, size - n), size - 1)
        start = int(a)
        end = int(b) if b != "" else size - 1
        if start >= size or end < start:
            return "bad"
        return (start, min(end, size - 1))

    def _send_file(self, rf: RepoFile, headers: dict, fault=None):
        """Send rf with Range support; headers are added to the response."""
        rng = self._parse_range(rf.size)
        if rng == "bad":
            self._send_error(416, None, "Requested Range Not Satisfiable",
                             extra={"Content-Range": f"bytes */{rf.size}"})
            return
        if rng is None:
            status, start, length = 200, 0, rf.size
        else:
            status, start, length = 206, rng[0], rng[1] - rng[0] + 1
        self._entry["status"] = status
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if self.hub.ranges_enabled:
            self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{start + length - 1}/{rf.size}")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if self.command == "HEAD":
            return
        limit = length
        if fault and fault.get("truncate") is not None:
            t = fault["truncate"]
            limit = int(length * t) if isinstance(t, float) else int(t)
            limit = max(0, min(limit, length - 1))
        if fault and fault.get("sleep_body"):
            self.wfile.flush()
            self.hub._sleep(fault["sleep_body"])
        sent = 0
        for chunk in rf.iter_range(start, length):
            if sent + len(chunk) > limit:
                chunk = chunk[:limit - sent]
            if chunk:
                self.wfile.write(chunk)
                sent += len(chunk)
                self._entry["bytes_sent"] = sent
            if sent >= limit:
                break
        if sent < length:                    # truncated on purpose: close mid-body
            self.wfile.flush()
            self._entry["status"] = f"{status}-truncated"
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # ---- authorization ----------------------------------------------------------------------
    def _token(self):
        h = self.headers.get("Authorization") or ""
        if h.lower().startswith("bearer "):
            return h[7:].strip()
        return None

    def _check_access(self, repo: Repo) -> bool:
        tok = self._token()
        if repo.private and tok not in self.hub.tokens:
            self._send_error(401, "RepoNotFound",
                             "Repository not found" if tok is None else "Invalid credentials in Authorization header")
            return False
        if repo.gated and tok not in repo.granted:
            self._send_error(403, "GatedRepo", repo.gated_message)
            return False
        return True

    def _repo_missing(self):
        if self._token() is None:
            self._send_error(401, "RepoNotFound", "Repository not found")
        else:
            self._send_error(404, "RepoNotFound", "Repository not found")

    # ---- hub routes ------------------------------------------------------------------------
    def _hub(self, method):
        split = urllib.parse.urlsplit(self.path)
        raw = split.path
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        segs = raw.lstrip("/").split("/")

        if segs[0] == "api":
            fault = self._take_fault(method)
            if fault and self._apply_pre_fault(fault):
                return
            return self._api(method, segs[1:], query, split)

        rtype = "model"
        if segs and segs[0] in ("datasets", "spaces"):
            rtype = segs[0][:-1]
            segs = segs[1:]
        if len(segs) >= 5 and segs[2] == "resolve" and method in ("GET", "HEAD"):
            fault = self._take_fault(method)
            if fault and self._apply_pre_fault(fault):
                return
            repo_id = urllib.parse.unquote(segs[0]) + "/" + urllib.parse.unquote(segs[1])
            rev = urllib.parse.unquote(segs[3])
            fpath = urllib.parse.unquote("/".join(segs[4:]))
            return self._resolve(rtype, repo_id, rev, fpath, fault)
        self._send_error(404, None, "Not Found")

    def _api(self, method, segs, query, split):
        if len(segs) < 3 or segs[0] not in ("models", "datasets", "spaces"):
            return self._send_error(404, None, "Not Found")
        rtype = segs[0][:-1]
        repo_id = urllib.parse.unquote(segs[1]) + "/" + urllib.parse.unquote(segs[2])
        rest = segs[3:]
        repo = self.hub.repos.get((rtype, repo_id))
        if repo is None:
            return self._repo_missing()
        if not self._check_access(repo):
            return
        blobs = query.get("blobs", ["false"])[0].lower() == "true"
        if not rest:
            return self._info(repo, "main", blobs)
        if rest[0] == "revision" and len(rest) >= 2:
            rev = urllib.parse.unquote("/".join(rest[1:]))
            return self._info(repo, rev, blobs)
        if rest[0] == "tree" and len(rest) >= 2:
            rev = urllib.parse.unquote(rest[1])
            d = urllib.parse.unquote("/".join(rest[2:])).strip("/")
            return self._tree(repo, rev, d, query, split)
        if rest[0] == "refs":
            return self._send_json({"branches": [{"name": n, "ref": f"refs/heads/{n}",
                                                  "targetCommit": s}
                                                 for n, s in repo.revisions.items()],
                                    "converts": [], "tags": []})
        return self._send_error(404, None, "Not Found")

    def _info(self, repo: Repo, rev, blobs):
        sha = repo.resolve_rev(rev)
        if sha is None:
            return self._send_error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
        info = {"id": repo.repo_id, "author": repo.repo_id.split("/")[0], "sha": sha,
                "private": repo.private, "gated": repo.gated or False, "disabled": False,
                "lastModified": "2024-01-01T00:00:00.000Z", "tags": [], "cardData": {}}
        if repo.repo_type == "model":
            info["modelId"] = repo.repo_id
        if repo.siblings_in_info:
            sibs = []
            for p, rf in repo.files.items():
                s = {"rfilename": p}
                if blobs:
                    s["size"] = rf.size
                    s["blobId"] = rf.git_oid
                    if rf.lfs:
                        s["lfs"] = {"sha256": rf.sha256, "size": rf.size, "pointerSize": 128}
                sibs.append(s)
            info["siblings"] = sibs
        self._send_json(info)

    def _tree(self, repo: Repo, rev, d, query, split):
        sha = repo.resolve_rev(rev)
        if sha is None:
            return self._send_error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
        recursive = query.get("recursive", ["false"])[0].lower() == "true"
        prefix = d + "/" if d else ""
        entries, dirs = [], set()
        for p, rf in repo.files.items():
            if not p.startswith(prefix):
                continue
            rel = p[len(prefix):]
            parts = rel.split("/")
            for i in range(1, len(parts)):
                dp = prefix + "/".join(parts[:i])
                if (recursive or i == 1) and dp not in dirs:
                    dirs.add(dp)
                    entries.append({"type": "directory", "path": dp,
                                    "oid": git_blob_sha1(dp.encode()), "size": 0})
            if recursive or len(parts) == 1:
                e = {"type": "file", "path": p, "size": rf.size, "oid": rf.git_oid}
                if rf.lfs:
                    e["lfs"] = {"oid": rf.sha256, "size": rf.size, "pointerSize": 128}
                entries.append(e)
        if d and not entries:
            return self._send_error(404, "EntryNotFound", f"{d} does not exist on {rev}")
        try:
            cursor = int(query.get("cursor", ["0"])[0])
        except ValueError:
            cursor = 0
        ps = max(1, int(self.hub.page_size))
        page = entries[cursor:cursor + ps]
        extra = {}
        if cursor + ps < len(entries):
            q = {k: v[-1] for k, v in query.items()}
            q["cursor"] = str(cursor + ps)
            nxt = f"{self.hub.url}{split.path}?{urllib.parse.urlencode(q)}"
            extra["Link"] = f'<{nxt}>; rel="next"'
        self._send_json(page, extra)

    def _resolve(self, rtype, repo_id, rev, fpath, fault):
        repo = self.hub.repos.get((rtype, repo_id))
        if repo is None:
            return self._repo_missing()
        if not self._check_access(repo):
            return
        sha = repo.resolve_rev(rev)
        if sha is None:
            return self._send_error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
        rf = repo.files.get(fpath)
        if rf is None:
            return self._send_error(404, "EntryNotFound", f"{fpath} does not exist on \"{rev}\"",
                                    extra={"X-Repo-Commit": sha})
        headers = {"X-Repo-Commit": sha}
        if rf.lfs:
            headers["ETag"] = f'"{rf.git_oid}"'
            headers["X-Linked-Etag"] = f'"{rf.sha256}"'
            headers["X-Linked-Size"] = str(rf.size)
            q = urllib.parse.urlencode({"repo": repo_id, "type": rtype, "rev": rev,
                                        "file": fpath})
            loc = f"{self.hub.cdn_url}/cdn/{rf.sha256}?{q}"
            self._entry["status"] = 302
            self.send_response(302)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Location", loc)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        headers["ETag"] = f'"{rf.git_oid}"'
        self._send_file(rf, headers, fault)

    # ---- CDN ---------------------------------------------------------------------------------
    def _cdn(self, method):
        split = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(split.query))
        logical = None
        if "repo" in q and "file" in q:
            pre = "" if q.get("type", "model") == "model" else q["type"] + "s/"
            logical = "/" + pre + q["repo"] + "/resolve/" + \
                urllib.parse.quote(q.get("rev", "main"), safe="") + "/" + \
                urllib.parse.quote(q["file"], safe="/")
        if method not in ("GET", "HEAD"):
            return self._send_error(405, None, "Method Not Allowed")
        if self.headers.get("Authorization") is not None:
            self.hub.cdn_auth_violations += 1
            return self._send_error(400, None,
                                    "Only one auth mechanism allowed; signed URL needs no Authorization")
        fault = self._take_fault(method, logical)
        if fault and self._apply_pre_fault(fault):
            return
        m = re.fullmatch(r"/cdn/([0-9a-f]{64})", split.path)
        rf = self.hub.blobs.get(m.group(1)) if m else None
        if rf is None:
            return self._send_error(404, None, "NoSuchKey")
        self._send_file(rf, {"ETag": f'"{rf.sha256}"'}, fault)


class HubServer:
    """Context manager running the fake hub and its CDN on loopback.

    root: optional directory laid out as root/models/<org>/<name>/... and
          root/datasets/<org>/<name>/...; every file below a repo dir is served.
    """

    def __init__(self, root=None, page_size=2, tokens=("hf_test_token",), max_lifetime=600):
        self.repos: dict = {}
        self.blobs: dict = {}
        self.faults: dict = {}
        self.log: list = []
        self.ranges_enabled = True
        self.page_size = page_size
        self.tokens = set(tokens)
        self.cdn_auth_violations = 0
        self.max_lifetime = max_lifetime
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._servers = []
        self._threads = []
        self.url = self.cdn_url = None
        if root:
            self.load_tree(root)

    # ---- registry ---------------------------------------------------------------------------
    def add_repo(self, repo_id, files, repo_type="model", **kw) -> Repo:
        repo = Repo(repo_id, files, repo_type=repo_type, **kw)
        with self._lock:
            self.repos[(repo_type, repo_id)] = repo
            for rf in repo.files.values():
                if rf.lfs:
                    self.blobs[rf.sha256] = rf
        return repo

    def add_repo_dir(self, repo_id, directory, repo_type="model", **kw) -> Repo:
        files = {}
        for dp, dn, fn in os.walk(directory):
            dn.sort()
            for f in sorted(fn):
                full = os.path.join(dp, f)
                files[os.path.relpath(full, directory).replace(os.sep, "/")] = full
        return self.add_repo(repo_id, files, repo_type=repo_type, **kw)

    def load_tree(self, root):
        for kind, rtype in (("models", "model"), ("datasets", "dataset"), ("spaces", "space")):
            base = os.path.join(root, kind)
            if not os.path.isdir(base):
                continue
            for org in sorted(os.listdir(base)):
                for name in sorted(os.listdir(os.path.join(base, org))):
                    self.add_repo_dir(f"{org}/{name}", os.path.join(base, org, name), rtype)

    # ---- helpers for tests ------------------------------------------------------------------
    def resolve_url(self, repo_id, path, rev="main", repo_type="model"):
        pre = "" if repo_type == "model" else repo_type + "s/"
        return (f"{self.url}/{pre}{repo_id}/resolve/{urllib.parse.quote(rev, safe='')}/"
                f"{urllib.parse.quote(path, safe='/')}")

    def resolve_path(self, repo_id, path, rev="main", repo_type="model"):
        return self.resolve_url(repo_id, path, rev, repo_type)[len(self.url):]

    def requests(self, server=None, method=None, contains=None):
        with self._lock:
            out = list(self.log)
        return [e for e in out
                if (server is None or e["server"] == server)
                and (method is None or e["method"] == method)
                and (contains is None or contains in e["path"])]

    def bytes_sent(self, contains=None):
        return sum(e["bytes_sent"] for e in self.requests(contains=contains))

    def reset_log(self):
        with self._lock:
            self.log.clear()
            self.cdn_auth_violations = 0

    def reset(self):
        """Back to the default state between tests: no faults, ranges on,
        two entries per tree page, empty request log."""
        self.faults.clear()
        self.ranges_enabled = True
        self.page_size = 2
        self.reset_log()

    def _sleep(self, seconds):
        end = time.monotonic() + seconds
        while not self._stop.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return
            self._stop.wait(min(left, 0.1))

    # ---- lifecycle ------------------------------------------------------------------------
    def start(self):
        hub = _Server(("127.0.0.1", 0), _Handler, self, "hub")
        try:
            cdn = _Server(("127.0.0.2", 0), _Handler, self, "cdn")
        except OSError:                      # no 127.0.0.2: a different port is a different host:port
            cdn = _Server(("127.0.0.1", 0), _Handler, self, "cdn")
        self._servers = [hub, cdn]
        self.url = "http://%s:%d" % hub.server_address[:2]
        self.cdn_url = "http://%s:%d" % cdn.server_address[:2]
        for s in self._servers:
            t = threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1},
                                 daemon=True, name=f"fakehub-{s.role}")
            t.start()
            self._threads.append(t)
        self._watchdog = threading.Timer(self.max_lifetime, self.stop)
        self._watchdog.daemon = True
        self._watchdog.start()
        return self

    def stop(self):
        self._stop.set()
        for s in self._servers:
            try:
                s.shutdown()
                s.server_close()
            except Exception:
                pass
        for t in self._threads:
            t.join(timeout=5)
        if getattr(self, "_watchdog", None):
            self._watchdog.cancel()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


if __name__ == "__main__":                   # manual use: python3 hubserver.py ROOT
    import sys
    with HubServer(sys.argv[1] if len(sys.argv) > 1 else None) as h:
        print("hub", h.url, "cdn", h.cdn_url, flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
