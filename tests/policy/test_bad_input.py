"""Hostile and malformed policies and inputs end in clear errors (exit 2 with
an OPA error code and a position), never a crash, a hang or an allow."""
import json
import os
import random
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import regocase  # noqa: E402


def run(policy, query="data.t.p", input_text=None, extra=(), timeout=60):
    with tempfile.TemporaryDirectory() as td:
        p = os.path.join(td, "p.rego")
        with open(p, "wb") as f:
            f.write(policy if isinstance(policy, bytes) else policy.encode())
        args = [regocase.weightwall(), "policy", "eval", "-p", p, *extra]
        if input_text is not None:
            ip = os.path.join(td, "in.json")
            with open(ip, "w") as f:
                f.write(input_text)
            args += ["-i", ip]
        r = subprocess.run(args + ["--", query], capture_output=True, text=True, timeout=timeout)
    assert r.returncode >= 0, f"killed by signal {-r.returncode}"
    return r


@pytest.mark.parametrize("src,code,where", [
    ("package t\np[x] { x := 1 }\n", "rego_parse_error", ":2:6:"),
    ("package t\np if { x := }\n", "rego_parse_error", ":2:"),
    ("package t\np if { foo(1) }\n", "rego_type_error", "undefined function foo"),
    ("package t\np if { re_match(`a`, \"a\") }\n", "rego_type_error", "use regex.match"),
    ("package t\np if { http.send({}) }\n", "rego_type_error", "not supported"),
    ("package t\np if { x > 1 }\n", "rego_unsafe_var_error", "var x is unsafe"),
    ("package t\np if { not q[x] }\nq contains 1\n", "rego_unsafe_var_error", "var x is unsafe"),
    ("package t\np if q\nq if p\n", "rego_recursion_error", "recursive"),
    ("package t\np := 1\np contains 2\n", "rego_type_error", "conflicting rules"),
    ("package t\ndefault p := 1\ndefault p := 2\n", "rego_type_error", "multiple default"),
    ("package t\na.b.c := 1\n", "rego_parse_error", "dotted rule heads"),
    ("package t\nimport http.client\n", "rego_parse_error", "unsupported import"),
    ("package t\np if { x := 1; x := 2 }\n", "rego_compile_error", "assigned above"),
    ("p := 1\n", "rego_parse_error", "must start with 'package'"),
    ("package t\np := \"unterminated\n", "rego_parse_error", "unterminated"),
    (b"package t\np := 1\x00\n", "rego_parse_error", "NUL"),
    (b"package t\np := \"\xff\"\n", "rego_parse_error", "UTF-8"),
    ("package t\np := count(1, 2, 3)\n", "rego_type_error", "too many arguments"),
])
def test_compile_errors(src, code, where):
    r = run(src)
    assert r.returncode == 2, r.stdout
    assert code in r.stderr and where in r.stderr, r.stderr


def test_conflict_is_an_error_not_last_wins():
    r = run("package t\np := 1\np := 2\n")
    assert r.returncode == 2 and "eval_conflict_error" in r.stderr


def test_deep_nesting_in_policy():
    r = run("package t\np := " + "[" * 100000 + "]" * 100000 + "\n")
    assert r.returncode == 2 and "nested too deeply" in r.stderr


def test_deep_nesting_in_input():
    r = run("package t\np := input\n", input_text="[" * 100000 + "]" * 100000)
    assert r.returncode == 2 and "nested too deeply" in r.stderr


def test_malformed_input_json():
    r = run("package t\np := input\n", input_text='{"a": ')
    assert r.returncode == 2 and "input" in r.stderr


def test_deep_rule_chain_hits_depth_budget():
    n = 5000
    src = "package t\n" + "".join(f"p{i} := p{i + 1} + 1\n" for i in range(n)) + f"p{n} := 0\n"
    r = run(src, query="data.t.p0")
    assert r.returncode == 2 and "eval_limit_error" in r.stderr and "nested too deeply" in r.stderr


def test_runaway_comprehension_hits_step_budget():
    src = ("package t\np := count([x | some a in numbers.range(1, 5000); "
           "some b in numbers.range(1, 5000); x := a * b])\n")
    r = run(src, extra=["--max-steps", "1000000"])
    assert r.returncode == 2 and "step budget" in r.stderr


def test_memory_budget():
    src = "package t\np := count([[a, b] | some a in numbers.range(1, 3000); some b in numbers.range(1, 300)])\n"
    r = run(src, extra=["--max-memory", "1000000"])
    assert r.returncode == 2 and "memory budget" in r.stderr


def test_catastrophic_regex_is_bounded():
    src = 'package t\np := regex.match(`^(a+)+$`, concat("", [x | some _ in numbers.range(1, 40); x := "a"]) + "b")\n'
    src = 'package t\ns := concat("", [x | some _ in numbers.range(1, 40); x := "a"])\np := regex.match(`^(a+)+$`, concat("", [s, "b"]))\n'
    r = run(src)
    assert r.returncode == 2 and "match limit" in r.stderr


def test_huge_input_is_fine():
    files = [{"file_extension": ".json", "path": f"f{i}.json"} for i in range(100000)]
    files.append({"file_extension": ".bin"})
    doc = json.dumps({"v0": {"package": {"format": "huggingface", "files": files}}})
    with open(os.path.join(regocase.SOURCE_ROOT, "policies", "cloudsmith-risky-extensions.rego")) as f:
        src = f.read()
    r = run(src, query="data.cloudsmith.match", input_text=doc)
    assert r.returncode == 0 and r.stdout.strip() == "true", r.stderr


def test_undefined_prints_nothing_and_exits_1():
    r = run("package t\np if false\n")
    assert r.returncode == 1 and r.stdout == ""


TOKENS = ["package", "t", "p", "q", "x", ":=", "=", "==", "if", "{", "}", "[", "]", "(", ")",
          "some", "in", "every", "not", "with", "as", "input", "data", ".", ",", ";", "\n", "1",
          '"s"', "contains", "else", "default", "|", "&", "+", "-", "*", "/", "count", "_",
          "set()", "`r`", "true", "null", "import", "rego.v1", ":"]


def test_random_token_soup_never_crashes():
    rnd = random.Random(1234)
    for _ in range(150):
        body = " ".join(rnd.choice(TOKENS) for _ in range(rnd.randint(1, 60)))
        r = run("package t\n" + body + "\n")
        assert r.returncode in (0, 1, 2), (body, r.returncode, r.stderr)
        if r.returncode == 2:
            assert "error" in r.stderr or "rego_" in r.stderr, (body, r.stderr)
