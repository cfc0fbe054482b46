"""Bypasses found by reviewing the parsers: each was reported clean (or lost
its findings) before the fix. Inputs are written as bytes; nothing is loaded."""
import gzip
import io
import json
import os
import struct
import subprocess
import tarfile
import zipfile

import pytest

ROOT = os.environ.get("WW_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
WW = os.environ.get("WEIGHTWALL", os.path.join(ROOT, "build", "cli", "weightwall"))
EVIL = b"cos\nsystem\n(S'echo pwned'\ntR."
SSTI = "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}"


def scan(path):
    p = subprocess.run([WW, "scan", "--format", "json", str(path)], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode >= 0, p.stderr
    return p.returncode, json.loads(p.stdout)["files"][0]


def test_keras_key_does_not_switch_off_json_checks(tmp_path):
    f = tmp_path / "tokenizer_config.json"
    f.write_text(json.dumps({"keras_version": "2.4",
                             "auto_map": {"AutoModel": "evil/repo--modeling_x.M"},
                             "chat_template": SSTI}))
    rc, r = scan(f)
    assert rc == 1 and r["max_severity"] == "CRITICAL"
    kinds = {x["kind"] for x in r["findings"]}
    assert "template" in kinds and "hub" in kinds


def test_zip_with_empty_directory_scans_what_surrounds_it(tmp_path):
    # An end record listing 0 members followed by a pickle.
    a = tmp_path / "after.zip"
    a.write_bytes(b"PK\x05\x06" + b"\0" * 18 + EVIL)
    rc, r = scan(a)
    assert rc == 1 and r["max_severity"] == "CRITICAL"
    assert any(f["module"] in ("os", "posix") and f["name"] == "system" for f in r["findings"])
    # A local entry hidden before a directory that lists nothing.
    lh = (b"PK\x03\x04" + struct.pack("<HHHHHIIIHH", 20, 0, 0, 0, 0, 0, len(EVIL), len(EVIL), 8, 0)
          + b"data.pkl" + EVIL)
    eocd = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 0, 0, 0, len(lh), 0)
    b = tmp_path / "hidden.zip"
    b.write_bytes(lh + eocd)
    rc, r = scan(b)
    assert rc != 0 and r["verdict"] != "clean"
    assert any(f["name"] == "T-ZIP-HIDDEN-DATA" for f in r["findings"])


def _tar(data):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w") as t:
        ti = tarfile.TarInfo("a.txt")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    return b.getvalue()


@pytest.mark.parametrize("name,blob", [
    ("t.tar", lambda: _tar(b"hello") + EVIL),
    ("t.gz", lambda: gzip.compress(b"hello") + EVIL),
    ("t.tar.gz", lambda: gzip.compress(_tar(b"hello")) + EVIL),
])
def test_bytes_after_an_archive_are_scanned(tmp_path, name, blob):
    f = tmp_path / name
    f.write_bytes(blob())
    rc, r = scan(f)
    assert rc == 1 and r["max_severity"] == "CRITICAL"


def test_plain_tar_padding_is_not_a_finding(tmp_path):
    f = tmp_path / "ok.tar"
    f.write_bytes(_tar(b"hello"))  # tarfile pads to a 10 KiB record with zeros
    rc, r = scan(f)
    assert rc == 0 and not [x for x in r["findings"] if x["name"] == "T-ZIP-POLYGLOT"]


def test_truncated_deflate_member_of_unknown_content_is_an_error(tmp_path):
    import binascii
    import zlib
    data = b"just some notes, not a model " * 10
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    comp = c.compress(data) + c.flush()
    comp = comp[: len(comp) // 2]
    name = b"notes.txt"
    crc = binascii.crc32(data)
    lh = (b"PK\x03\x04" + struct.pack("<HHHHHIIIHH", 20, 0, 8, 0, 0, crc, len(comp), len(data),
                                      len(name), 0) + name + comp)
    cd = (b"PK\x01\x02" + struct.pack("<HHHHHHIIIHHHHHII", 20, 20, 0, 8, 0, 0, crc, len(comp),
                                      len(data), len(name), 0, 0, 0, 0, 0, 0) + name)
    eocd = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, len(cd), len(lh), 0)
    f = tmp_path / "trunc.zip"
    f.write_bytes(lh + cd + eocd)
    rc, r = scan(f)
    assert rc == 2 and r["verdict"] == "error"


def test_gguf_template_is_reported_even_when_a_tensor_is_broken(tmp_path):
    def s(x):
        b = x.encode()
        return struct.pack("<Q", len(b)) + b
    head = b"GGUF" + struct.pack("<IQQ", 3, 1, 1)
    head += s("tokenizer.chat_template") + struct.pack("<I", 8) + s(SSTI)
    head += s("w") + struct.pack("<I", 1) + struct.pack("<Q", 4) + struct.pack("<IQ", 9999, 0)
    f = tmp_path / "m.gguf"
    f.write_bytes(head + b"\0" * 64)
    rc, r = scan(f)
    assert r["verdict"] != "clean"
    assert r["max_severity"] == "CRITICAL", r
