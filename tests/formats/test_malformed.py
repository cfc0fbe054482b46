"""Every file in tests/formats/malformed/ (hand-made broken inputs, maintained by the format
owners) must never be reported clean: the scan finishes without crashing or hanging, exits
non-zero (1 = finding, 2 = error) and the JSON verdict is "unsafe" or "error"."""
from pathlib import Path

import pytest

MALFORMED = Path(__file__).resolve().parent / "malformed"
FILES = sorted(p for p in MALFORMED.rglob("*")
               if p.is_file() and not p.name.startswith(".")
               and p.suffix not in (".md",) and p.name not in ("README", "meson.build")) \
    if MALFORMED.is_dir() else []


@pytest.mark.skipif(not FILES, reason=f"no files in {MALFORMED} yet")
@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(MALFORMED)) for p in FILES])
def test_malformed_never_clean(path, ww_scan):
    rc, entry, run = ww_scan(path, timeout=60)
    detail = (f"{path.relative_to(MALFORMED)}: rc={rc} verdict={entry.get('verdict')} "
              f"format={entry.get('format')} skipped={entry.get('skipped')} "
              f"errors={[e.get('message') for e in entry.get('errors') or []][:3]} "
              f"findings={[(f.get('severity'), f.get('kind')) for f in entry.get('findings') or []][:5]}")
    assert entry.get("verdict") in ("unsafe", "error"), "malformed input reported clean: " + detail
    assert rc in (1, 2), "malformed input exit code: " + detail
    assert "Sanitizer" not in run.stderr and "runtime error" not in run.stderr, (
        detail + "\n" + run.stderr[-2000:])
