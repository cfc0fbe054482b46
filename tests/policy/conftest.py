"""Prints the policy suites' pass/fail/skip counts at the end of the run."""
import regocase  # noqa: F401  (makes the helper importable for the tests)

RESULTS = {}


def record(suite, outcome):
    RESULTS.setdefault(suite, {"passed": 0, "failed": 0, "skipped": 0})[outcome] += 1


def pytest_terminal_summary(terminalreporter):
    for suite, c in sorted(RESULTS.items()):
        terminalreporter.write_line(
            f"{suite}: {c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped")
