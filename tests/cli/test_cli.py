"""The `weightwall scan` command line: exit codes, help, JSON/SARIF/text reports, options,
stdin, directory walking (incl. a Hugging Face cache layout) and error reporting.

Uses the demo set (demo/make_demo.py) and a few generated fixtures (tests/fixtures)."""
import json
import os
import re
import shutil
from pathlib import Path

import pytest

SEV = ["LOW", "MEDIUM", "HIGH", "CRITICAL"]


@pytest.fixture(scope="module")
def demo(fixture_dir):
    return fixture_dir / "demo"


@pytest.fixture(scope="module")
def evil_pt(fixture_dir):
    return fixture_dir / "torch" / "torch_zip_malicious.pt"


@pytest.fixture(scope="module")
def benign_pt(demo):
    return demo / "benign_model.pt"


def entry_by_name(doc, name):
    hits = [f for f in doc["files"] if Path(f["path"]).name == name]
    assert len(hits) == 1, (name, [f["path"] for f in doc["files"]])
    return hits[0]


# ----------------------------------------------------------------------------- help / usage

def test_top_level_help(ww):
    r = ww("--help", fmt=None)
    assert r.rc == 0, r.stderr
    text = r.stdout + r.stderr
    assert "scan" in text and "Usage" in text


def test_scan_help_lists_options(ww):
    r = ww("scan", "--help", fmt=None)
    assert r.rc == 0, r.stderr
    text = r.stdout + r.stderr
    for opt in ("--format", "--threshold", "--min-severity", "--show-skipped", "--quiet", "-q",
                "--jobs", "-j", "--globals", "--limit"):
        assert opt in text, f"scan --help does not mention {opt}"
    for code in ("0", "1", "2"):
        assert re.search(rf"^\s*{code}\s", text, re.M), f"exit code {code} not documented"


def test_unknown_option_is_usage_error(ww, benign_pt):
    r = ww("scan", "--definitely-not-an-option", benign_pt, fmt=None)
    assert r.rc == 2
    assert "definitely-not-an-option" in r.stderr


def test_scan_without_paths_is_usage_error(ww):
    r = ww("scan", fmt=None)
    assert r.rc == 2
    assert r.stderr.strip(), "no message for a scan without paths"


def test_bad_severity_value_is_usage_error(ww, benign_pt):
    r = ww("scan", "--threshold", "EXTREME", benign_pt, fmt=None)
    assert r.rc == 2 and "EXTREME" in r.stderr


def test_bad_format_value_is_usage_error(ww, benign_pt):
    r = ww("scan", "--format", "yaml", benign_pt, fmt=None)
    assert r.rc == 2 and "yaml" in r.stderr


def test_unknown_limit_is_usage_error(ww, benign_pt):
    r = ww("scan", "--limit", "no_such_limit=3", benign_pt, fmt=None)
    assert r.rc == 2 and "no_such_limit" in r.stderr


@pytest.mark.parametrize("sub", ["version", "formats", "limits"])
def test_info_subcommands(ww, sub):
    r = ww(sub, fmt=None)
    assert r.rc == 0, r.stderr
    assert r.stdout.strip()
    if sub == "limits":
        assert "max_depth" in r.stdout
    if sub == "formats":
        assert "pickle" in r.stdout


# ----------------------------------------------------------------------------- exit codes

def test_exit_0_clean(ww, benign_pt):
    r = ww("scan", benign_pt)
    assert r.rc == 0, r.stdout
    assert r.json["files"][0]["verdict"] == "clean"


def test_exit_1_unsafe(ww, demo):
    r = ww("scan", demo / "test_critical.pkl")
    assert r.rc == 1, r.stdout
    f = r.json["files"][0]
    assert f["verdict"] == "unsafe" and f["max_severity"] == "CRITICAL"


def test_exit_1_when_any_file_unsafe(ww, demo, benign_pt):
    r = ww("scan", benign_pt, demo / "test_medium.pkl")
    assert r.rc == 1
    assert [f["verdict"] for f in r.json["files"]] == ["clean", "unsafe"]


def test_nonexistent_path_exit_2_names_file(ww, tmp_path):
    missing = tmp_path / "no-such-model.pt"
    r = ww("scan", missing, fmt=None)
    assert r.rc == 2
    assert str(missing) in r.stderr, f"stderr does not name the missing file: {r.stderr!r}"
    assert re.search(r"no such file|not found|does not exist", r.stderr, re.I), r.stderr


def test_nonexistent_path_with_json_still_exit_2(ww, tmp_path, benign_pt):
    missing = tmp_path / "gone.bin"
    r = ww("scan", benign_pt, missing, fmt=None)
    assert r.rc == 2
    assert str(missing) in r.stderr


def test_error_exit_2_for_truncated_file(ww, fixture_dir):
    r = ww("scan", fixture_dir / "resource" / "binbytes8_huge.pkl")
    assert r.rc == 2
    f = r.json["files"][0]
    assert f["verdict"] == "error" and f["errors"], f


def test_unreadable_file_is_error(ww, tmp_path, demo):
    if os.geteuid() == 0:
        pytest.skip("root can read mode-000 files")
    p = tmp_path / "locked.pkl"
    shutil.copy(demo / "test_critical.pkl", p)
    p.chmod(0)
    r = ww("scan", p, fmt=None)
    assert r.rc == 2 and "locked.pkl" in (r.stdout + r.stderr)


# ----------------------------------------------------------------------------- threshold / filtering

def test_threshold_high_makes_medium_clean(ww, demo):
    r = ww("scan", "--threshold", "HIGH", demo / "test_medium.pkl")
    assert r.rc == 0, r.stdout
    f = r.json["files"][0]
    assert f["verdict"] == "clean" and f["max_severity"] == "MEDIUM"


def test_threshold_high_keeps_high_unsafe(ww, demo):
    r = ww("scan", "--threshold", "HIGH", demo / "test_high.pkl")
    assert r.rc == 1
    assert r.json["files"][0]["max_severity"] == "HIGH"


def test_threshold_critical(ww, demo):
    r = ww("scan", "--threshold", "CRITICAL", demo / "test_high.pkl", demo / "test_critical.pkl")
    assert r.rc == 1
    assert [f["verdict"] for f in r.json["files"]] == ["clean", "unsafe"]


def test_threshold_low_flags_low_findings(ww, fixture_dir):
    p = fixture_dir / "torch" / "tinynet_full_module.pt"
    r0 = ww("scan", p)
    assert r0.rc == 0 and r0.json["files"][0]["verdict"] == "clean", r0.stdout[-2000:]
    if r0.json["files"][0]["max_severity"] == "LOW":
        r = ww("scan", "--threshold", "LOW", p)
        assert r.rc == 1 and r.json["files"][0]["verdict"] == "unsafe"


def test_min_severity_filters_listing_not_verdict(ww, demo):
    r = ww("scan", "--min-severity", "CRITICAL", demo / "test_medium.pkl", demo / "test_critical.pkl")
    assert r.rc == 1
    med = entry_by_name(r.json, "test_medium.pkl")
    crit = entry_by_name(r.json, "test_critical.pkl")
    assert med["verdict"] == "unsafe" and med["max_severity"] == "MEDIUM"
    assert med["findings"] == [], "findings below --min-severity must not be listed"
    assert crit["findings"] and all(f["severity"] == "CRITICAL" for f in crit["findings"])


def test_min_severity_text(ww, demo):
    r = ww("scan", "--min-severity", "HIGH", demo / "test_medium.pkl", demo / "test_high.pkl",
           fmt=None)
    assert r.rc == 1
    assert "webbrowser" in r.stdout
    assert not any("test_medium.pkl" in l and "MEDIUM" in l for l in r.stdout.splitlines()), \
        r.stdout


def test_globals_file_overrides(ww, demo, tmp_path):
    rules = tmp_path / "globals.txt"
    rules.write_text("# allow print for this test\nbuiltins print safe test override\n")
    r = ww("scan", "--globals", rules, demo / "test_medium.pkl")
    assert r.rc == 0, r.stdout
    assert r.json["files"][0]["verdict"] == "clean"


def test_globals_file_can_raise(ww, benign_pt, tmp_path):
    rules = tmp_path / "globals.txt"
    rules.write_text("collections OrderedDict critical no OrderedDicts here\n")
    r = ww("scan", "--globals", rules, benign_pt)
    assert r.rc == 1
    f = r.json["files"][0]
    assert f["max_severity"] == "CRITICAL"
    assert any(x["module"] == "collections" and x["name"] == "OrderedDict" for x in f["findings"])


def test_globals_file_bad_line(ww, benign_pt, tmp_path):
    rules = tmp_path / "bad.txt"
    rules.write_text("builtins print\n")
    r = ww("scan", "--globals", rules, benign_pt, fmt=None)
    assert r.rc == 2 and "bad.txt" in r.stderr


def test_limit_option_applies(ww, fixture_dir):
    p = fixture_dir / "archives" / "nested_zip.zip"
    r = ww("scan", "--limit", "max_depth=1", p)
    assert r.rc in (1, 2)
    assert r.json["files"][0]["verdict"] in ("unsafe", "error")


# ----------------------------------------------------------------------------- JSON schema

FILE_KEYS = {"path": str, "format": str, "verdict": str, "status": str, "skipped": bool,
             "code_capable": bool, "size": int, "bytes_read": int, "layers": list,
             "findings": list, "errors": list}


def check_file_entry(f):
    for k, t in FILE_KEYS.items():
        assert k in f, f"file entry lacks {k!r}"
        assert isinstance(f[k], t), f"{k} is {type(f[k]).__name__}, want {t.__name__}"
    assert "max_severity" in f and (f["max_severity"] is None or f["max_severity"] in SEV)
    assert "error" in f and (f["error"] is None or isinstance(f["error"], str))
    assert f["verdict"] in ("clean", "unsafe", "error")
    for layer in f["layers"]:
        for k, t in (("member", str), ("format", str), ("code_capable", bool), ("size", int)):
            assert isinstance(layer.get(k), t), (k, layer)
    for x in f["findings"]:
        assert x["severity"] in SEV + ["NONE"], x
        for k in ("kind", "module", "name", "member", "message", "offset"):
            assert k in x, (k, x)
        assert isinstance(x["kind"], str) and isinstance(x["message"], str)
        assert x["offset"] is None or isinstance(x["offset"], int)
        if x["kind"] == "import":
            assert isinstance(x["module"], str) and isinstance(x["name"], str), x
    for e in f["errors"]:
        for k in ("kind", "member", "message", "offset"):
            assert k in e, (k, e)
        assert isinstance(e["message"], str) and e["message"]
    listed = [x["severity"] for x in f["findings"] if x["severity"] in SEV]
    if listed:
        assert f["max_severity"] == max(listed, key=SEV.index), (f["max_severity"], listed)


def test_json_schema(ww, demo, evil_pt, fixture_dir):
    trunc = fixture_dir / "resource" / "binbytes8_huge.pkl"
    r = ww("scan", demo, evil_pt, trunc)
    doc = r.json
    assert set(doc) >= {"files", "summary"}
    assert len(doc["files"]) == 6
    for f in doc["files"]:
        check_file_entry(f)
    s = doc["summary"]
    for k in ("scanned", "clean", "unsafe", "errors", "skipped", "dangerous_imports"):
        assert isinstance(s.get(k), int), (k, s)
    assert s["scanned"] == 6
    assert s["clean"] + s["unsafe"] + s["errors"] == s["scanned"]
    assert s["unsafe"] == 4 and s["errors"] == 1 and s["clean"] == 1, s
    assert s["dangerous_imports"] >= 4
    crit = entry_by_name(doc, "test_critical.pkl")
    imp = [x for x in crit["findings"] if x["kind"] == "import"]
    assert any(x["module"] == "posix" and x["name"] == "system" and x["severity"] == "CRITICAL"
               for x in imp), crit["findings"]
    assert crit["format"] == "pickle" and crit["code_capable"] is True
    assert crit["size"] == (demo / "test_critical.pkl").stat().st_size
    ev = entry_by_name(doc, evil_pt.name)
    assert ev["layers"][0]["member"] == ""
    assert any(l["member"].endswith("data.pkl") and l["format"] == "pickle" for l in ev["layers"])
    assert any(x["member"].endswith("data.pkl") and x["module"] == "posix" for x in ev["findings"])


def test_json_output_file(ww, demo, tmp_path):
    out = tmp_path / "report.json"
    r = ww("scan", "--format", "json", "-o", out, demo / "test_high.pkl", fmt=None)
    assert r.rc == 1
    doc = json.loads(out.read_text())
    assert doc["files"][0]["max_severity"] == "HIGH"


# ----------------------------------------------------------------------------- SARIF

def test_sarif_shape(ww, demo, evil_pt):
    r = ww("scan", "--format", "sarif", demo, evil_pt, fmt=None)
    assert r.rc == 1
    doc = json.loads(r.stdout)
    assert doc["version"] == "2.1.0"
    assert "sarif" in doc["$schema"] and "2.1.0" in doc["$schema"]
    assert isinstance(doc["runs"], list) and len(doc["runs"]) == 1
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "weightwall"
    rule_ids = {rule["id"] for rule in driver.get("rules", [])}
    results = run["results"]
    assert results, "no SARIF results for unsafe files"
    for res in results:
        assert res["ruleId"] in rule_ids, res["ruleId"]
        assert res["level"] in ("error", "warning", "note", "none")
        assert isinstance(res["message"]["text"], str) and res["message"]["text"]
        loc = res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert isinstance(loc, str) and loc
    uris = {res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for res in results}
    assert any(u.endswith("test_critical.pkl") for u in uris)
    assert not any(u.endswith("benign_model.pt") for u in uris), "clean file in SARIF results"
    crit = [res for res in results
            if res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .endswith("test_critical.pkl")]
    assert any(res["level"] == "error" and "posix" in res["message"]["text"] for res in crit)
    med = [res for res in results
           if res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
           .endswith("test_medium.pkl")]
    assert med and all(res["level"] == "warning" for res in med)
    torch_res = [res for res in results
                 if res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                 .endswith(evil_pt.name)]
    assert any("data.pkl" in json.dumps(res.get("locations")) for res in torch_res), \
        "member path missing from SARIF location"


# ----------------------------------------------------------------------------- text output

def test_text_names_file_member_global_severity(ww, evil_pt):
    r = ww("scan", evil_pt, fmt=None)
    assert r.rc == 1
    lines = [l for l in r.stdout.splitlines() if "posix" in l and "system" in l]
    assert lines, r.stdout
    assert any(str(evil_pt) in l and "data.pkl" in l and "CRITICAL" in l for l in lines), \
        f"no line names file, member, global and severity:\n{r.stdout}"


def test_text_summary_lines(ww, demo):
    r = ww("scan", demo, fmt=None)
    assert r.rc == 1
    out = r.stdout
    assert re.search(r"^Scanned files: 4$", out, re.M), out
    assert re.search(r"^Unsafe files: 3$", out, re.M), out
    assert re.search(r"^Errors: 0$", out, re.M), out
    assert re.search(r"^Skipped files: 0$", out, re.M), out
    assert re.search(r"^Dangerous imports: [3-9]\d*$", out, re.M), out
    for name, sev in (("test_critical.pkl", "CRITICAL"), ("test_high.pkl", "HIGH"),
                      ("test_medium.pkl", "MEDIUM")):
        assert any(name in l and sev in l for l in out.splitlines()), (name, out)
    assert not any("benign_model.pt" in l and re.search(r"\b(MEDIUM|HIGH|CRITICAL)\b", l)
                   for l in out.splitlines())


def test_text_no_color_when_piped(ww, demo):
    r = ww("scan", demo / "test_critical.pkl", fmt=None)
    assert "\033[" not in r.stdout


def test_quiet(ww, demo):
    r = ww("scan", "-q", demo, fmt=None)
    assert r.rc == 1
    assert "SCAN SUMMARY" not in r.stdout and "Scanned files" not in r.stdout
    assert "benign_model.pt" not in r.stdout
    assert "test_critical.pkl" in r.stdout
    rq = ww("scan", "--quiet", demo / "benign_model.pt", fmt=None)
    assert rq.rc == 0 and rq.stdout.strip() == ""


def test_show_skipped(ww, tmp_path, demo):
    (tmp_path / "README.md").write_text("# My model\n\nJust a readme.\n")
    shutil.copy(demo / "benign_model.pt", tmp_path / "model.pt")
    r = ww("scan", tmp_path, fmt=None)
    assert r.rc == 0, r.stdout
    assert "README.md" not in r.stdout.replace("Skipped files", "")
    r2 = ww("scan", "--show-skipped", tmp_path, fmt=None)
    assert r2.rc == 0
    assert any("README.md" in l and "skipped" in l.lower() for l in r2.stdout.splitlines()), \
        r2.stdout
    rj = ww("scan", tmp_path)
    readme = entry_by_name(rj.json, "README.md")
    assert readme["skipped"] is True and readme["verdict"] == "clean"
    assert rj.json["summary"]["skipped"] == 1


# ----------------------------------------------------------------------------- -j

def test_jobs_same_results(ww, fixture_dir):
    paths = [fixture_dir / "demo", fixture_dir / "archives", fixture_dir / "numpy"]
    r1 = ww("scan", "-j", "1", *paths)
    r2 = ww("scan", "-j", "2", *paths)
    r8 = ww("scan", "--jobs", "8", *paths)

    def key(doc):
        return [(f["path"], f["verdict"], f["max_severity"],
                 sorted((x["severity"], x["kind"], str(x["module"]), str(x["name"]),
                         str(x["member"])) for x in f["findings"]))
                for f in doc["files"]]
    assert r1.rc == r2.rc == r8.rc
    assert key(r1.json) == key(r2.json) == key(r8.json), "output differs with -j (or order unstable)"
    assert r1.json["summary"] == r2.json["summary"] == r8.json["summary"]


def test_jobs_invalid(ww, demo):
    r = ww("scan", "-j", "0", demo, fmt=None)
    assert r.rc == 2
    r = ww("scan", "-j", "many", demo, fmt=None)
    assert r.rc == 2


# ----------------------------------------------------------------------------- stdin

def test_stdin_malicious_pickle(ww, demo):
    r = ww("scan", "-", stdin=(demo / "test_critical.pkl").read_bytes())
    assert r.rc == 1, r.stdout + r.stderr
    f = r.json["files"][0]
    assert f["max_severity"] == "CRITICAL"
    assert any(x["module"] == "posix" and x["name"] == "system" for x in f["findings"])


def test_stdin_torch_zip(ww, evil_pt, benign_pt):
    r = ww("scan", "-", stdin=evil_pt.read_bytes())
    assert r.rc == 1, r.stdout + r.stderr
    assert r.json["files"][0]["max_severity"] == "CRITICAL"
    r = ww("scan", "-", stdin=benign_pt.read_bytes())
    assert r.rc == 0, r.stdout + r.stderr


def test_stdin_empty(ww):
    r = ww("scan", "-", stdin=b"")
    assert r.rc in (0, 2)
    assert r.json["files"][0]["verdict"] in ("clean", "error")


# ----------------------------------------------------------------------------- directories

def test_directory_recursion(ww, tmp_path, demo, fixture_dir):
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    shutil.copy(demo / "benign_model.pt", tmp_path / "model.pt")
    shutil.copy(demo / "test_critical.pkl", tmp_path / "a" / "b" / "c" / "weights")  # no ext
    shutil.copy(fixture_dir / "ext" / "ext_os_system.dat.txt", tmp_path / "a" / "notes.txt")
    (tmp_path / "a" / "b" / "config.json").write_text('{"hidden_size": 8}')
    (tmp_path / "a" / "b" / ".hidden.pkl").write_bytes((demo / "test_high.pkl").read_bytes())
    r = ww("scan", tmp_path)
    assert r.rc == 1
    names = sorted(Path(f["path"]).relative_to(tmp_path).as_posix() for f in r.json["files"])
    assert names == sorted(["model.pt", "a/b/c/weights", "a/notes.txt", "a/b/config.json",
                            "a/b/.hidden.pkl"]), names
    v = {Path(f["path"]).name: f["verdict"] for f in r.json["files"]}
    assert v["weights"] == "unsafe" and v["notes.txt"] == "unsafe" and v[".hidden.pkl"] == "unsafe"
    assert v["model.pt"] == "clean" and v["config.json"] == "clean"
    assert r.json["summary"]["scanned"] == 5 and r.json["summary"]["unsafe"] == 3


def test_directory_symlink_loop_terminates(ww, tmp_path, demo):
    (tmp_path / "d").mkdir()
    shutil.copy(demo / "test_medium.pkl", tmp_path / "d" / "m.pkl")
    os.symlink("..", tmp_path / "d" / "loop")
    r = ww("scan", tmp_path, timeout=30)
    assert r.rc == 1
    assert len(r.json["files"]) == 1


def test_dangling_symlink_reported(ww, tmp_path, demo):
    shutil.copy(demo / "benign_model.pt", tmp_path / "model.pt")
    os.symlink(tmp_path / "missing-target.bin", tmp_path / "pytorch_model.bin")
    r = ww("scan", tmp_path)
    assert r.rc == 2, "a dangling link must not be silently skipped"
    assert "pytorch_model.bin" in r.stdout + r.stderr


def make_hf_cache(root, evil_bytes, benign_bytes):
    """models--org--name/{blobs,snapshots/<rev>,refs} like huggingface_hub writes it."""
    repo = root / "models--acme--tiny"
    blobs = repo / "blobs"
    blobs.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("a" * 40)
    b_evil = blobs / ("e" * 64)
    b_good = blobs / ("b" * 64)
    b_cfg = blobs / ("c" * 40)
    b_evil.write_bytes(evil_bytes)
    b_good.write_bytes(benign_bytes)
    b_cfg.write_text('{"model_type": "tiny"}')
    for rev, weights in (("a" * 40, b_evil), ("f" * 40, b_good), ("9" * 40, b_evil)):
        snap = repo / "snapshots" / rev
        snap.mkdir(parents=True)
        os.symlink(os.path.relpath(weights, snap), snap / "pytorch_model.bin")
        os.symlink(os.path.relpath(b_cfg, snap), snap / "config.json")
    return repo, b_evil


def test_hf_cache_layout_blobs_scanned_once(ww, tmp_path, evil_pt, benign_pt):
    repo, b_evil = make_hf_cache(tmp_path / "hub", evil_pt.read_bytes(), benign_pt.read_bytes())
    r = ww("scan", tmp_path / "hub")
    assert r.rc == 1
    files = r.json["files"]
    real = [os.path.realpath(f["path"]) for f in files]
    assert len(real) == len(set(real)), f"a blob was scanned more than once: {sorted(real)}"
    # 3 blobs + refs/main, each exactly once
    assert len(files) == 4, [f["path"] for f in files]
    unsafe = [f for f in files if f["verdict"] == "unsafe"]
    assert len(unsafe) == 1 and os.path.realpath(unsafe[0]["path"]) == str(b_evil.resolve())
    assert unsafe[0]["max_severity"] == "CRITICAL"
    assert r.json["summary"]["scanned"] == 4 and r.json["summary"]["unsafe"] == 1


def test_symlink_given_twice_scanned_once(ww, tmp_path, demo):
    shutil.copy(demo / "test_high.pkl", tmp_path / "real.pkl")
    os.symlink("real.pkl", tmp_path / "alias.pkl")
    r = ww("scan", tmp_path / "real.pkl", tmp_path / "alias.pkl")
    assert r.rc == 1
    assert len(r.json["files"]) == 1


# ----------------------------------------------------------------------------- repo-level threats

def test_hub_indirection_auto_map_and_code(ww, tmp_path, benign_pt):
    """T-HUB-INDIRECTION: a repo whose config.json has auto_map and ships modeling_*.py runs that
    code with trust_remote_code=True; threats.md: report code files and auto_map (MEDIUM)."""
    shutil.copy(benign_pt, tmp_path / "pytorch_model.bin")
    (tmp_path / "config.json").write_text(json.dumps(
        {"model_type": "evil", "auto_map": {"AutoModel": "modeling_evil.EvilModel"}}))
    (tmp_path / "modeling_evil.py").write_text("import os\nos.system('id')\n")
    r = ww("scan", tmp_path)
    assert r.rc == 1
    cfg = entry_by_name(r.json, "config.json")
    assert cfg["verdict"] == "unsafe" and cfg["max_severity"] == "MEDIUM", cfg
    code = entry_by_name(r.json, "modeling_evil.py")
    assert code["max_severity"] in ("MEDIUM", "HIGH", "CRITICAL") and not code["skipped"], (
        f"repository code file not reported (threats.md T-HUB-INDIRECTION): {code}")
    assert entry_by_name(r.json, "pytorch_model.bin")["verdict"] == "clean"


def test_many_files(ww, tmp_path, demo):
    """T-RES-MANY-FILES (scaled down): 3000 files in nested dirs, one malicious, scanned once each."""
    small = b"\x80\x04]\x94."  # empty list pickle
    for i in range(30):
        d = tmp_path / f"d{i:02d}"
        d.mkdir()
        for j in range(100):
            (d / f"f{j:03d}.pkl").write_bytes(small)
    shutil.copy(demo / "test_critical.pkl", tmp_path / "d17" / "f050.pkl")
    r = ww("scan", "-j", "2", tmp_path, timeout=120)
    assert r.rc == 1
    s = r.json["summary"]
    assert s["scanned"] == 3000 and s["unsafe"] == 1 and s["clean"] == 2999, s
