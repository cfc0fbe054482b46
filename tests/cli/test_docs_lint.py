"""Docs match code: every format module has a page, every limit is documented,
every scan option is taught by --help."""
import os
import re
import subprocess

ROOT = os.environ.get("WW_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
WW = os.environ.get("WEIGHTWALL", os.path.join(ROOT, "build", "cli", "weightwall"))


def read(*p):
    with open(os.path.join(ROOT, *p)) as f:
        return f.read()


def test_every_format_has_a_page():
    formats = re.findall(r"^WW_FORMAT\((\w+)\)", read("lib", "formats", "formats.def"), re.M)
    assert len(formats) >= 10
    missing = [f for f in formats if not os.path.exists(os.path.join(ROOT, "docs", "formats", f + ".md"))]
    assert not missing, f"formats without docs/formats/<name>.md: {missing}"


def test_every_limit_is_documented():
    limits = re.findall(r"^WW_LIMIT\((\w+),", read("include", "weightwall_limits.def"), re.M)
    doc = read("docs", "limits.md")
    assert [l for l in limits if l not in doc] == []
    out = subprocess.run([WW, "limits"], capture_output=True, text=True).stdout
    assert all(l in out for l in limits)


def test_every_scan_option_is_in_help():
    opts = re.findall(r'\{"([a-z-]+)", (?:no|required|optional)_argument', read("cli", "scan_opts.c"))
    helptext = subprocess.run([WW, "scan", "--help"], capture_output=True, text=True).stdout
    hidden = {"sandbox-selftest"}  # testing hook, documented in docs/cli/scan.md
    missing = [o for o in opts if o not in hidden and "--" + o not in helptext]
    assert not missing, missing
    assert "--sandbox-selftest" in read("docs", "cli", "scan.md")
