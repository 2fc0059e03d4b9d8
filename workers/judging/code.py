"""Judge a code answer by running its question's tests against it in the sandbox.

The tests are the question's own (read at upload from a field such as ``test_list``, with
optional setup code) or else the gold's (``assert`` lines or a JSON list). The answer's
code is the last fenced block that defines something (else the last fenced block, else the
whole answer). It runs once, then the setup code; then each test runs on its own with a
time limit, and passes, fails (AssertionError), errors or times out. All tests must pass.
The reason says where the tests came from.
"""

from __future__ import annotations

import json
import re
from typing import Any

from workers.judging.answer_types import CodeTests, assertion_lines
from workers.judging.sandbox import Limits, SandboxResult, run_python
from workers.judging.verdicts import Judgement

FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)```", re.DOTALL)
PER_TEST_S = 3.0
MARK = "@@familiar-test@@"

HARNESS = r"""
import json as _json, signal as _signal, sys as _sys
_spec = _json.loads(open("tests.json").read())
_tests, _setup = _spec["tests"], _spec["setup"]
_solution = open("solution.py").read()
_mark, _per_test = %(mark)r, %(per_test)r
def _alarm(signum, frame):
    raise TimeoutError("test took longer than %%ss" %% _per_test)
_signal.signal(_signal.SIGALRM, _alarm)
def _report(i, status, detail=""):
    _sys.__stdout__.write(_mark + _json.dumps([i, status, str(detail)[:300]]) + "\n")
    _sys.__stdout__.flush()
_ns = {"__name__": "__main__"}
_signal.setitimer(_signal.ITIMER_REAL, _per_test * 2)
try:
    exec(compile(_solution, "solution.py", "exec"), _ns)
except BaseException as _e:
    _signal.setitimer(_signal.ITIMER_REAL, 0)
    _report(-1, "error", "%%s: %%s" %% (type(_e).__name__, _e))
    raise SystemExit(0)
_signal.setitimer(_signal.ITIMER_REAL, 0)
if _setup:
    _signal.setitimer(_signal.ITIMER_REAL, _per_test * 2)
    try:
        exec(compile(_setup, "setup.py", "exec"), _ns)
    except BaseException as _e:
        _signal.setitimer(_signal.ITIMER_REAL, 0)
        _report(-1, "error", "the test setup code failed: %%s: %%s" %% (type(_e).__name__, _e))
        raise SystemExit(0)
    _signal.setitimer(_signal.ITIMER_REAL, 0)
for _i, _t in enumerate(_tests):
    _signal.setitimer(_signal.ITIMER_REAL, _per_test)
    try:
        exec(compile(_t, "test_%%d.py" %% _i, "exec"), _ns)
        _status, _detail = "passed", ""
    except AssertionError as _e:
        _status, _detail = "failed", _e
    except TimeoutError as _e:
        _status, _detail = "timeout", _e
    except BaseException as _e:
        _status, _detail = "error", "%%s: %%s" %% (type(_e).__name__, _e)
    finally:
        _signal.setitimer(_signal.ITIMER_REAL, 0)
    _report(_i, _status, _detail)
"""


def extract_code(response: str) -> str:
    blocks = [(lang.lower(), body) for lang, body in FENCE.findall(response or "")]
    blocks = [b for b in blocks if b[0] in ("", "python", "py", "python3")] or blocks
    defining = [
        body for _, body in blocks if re.search(r"^\s*(def|class|import|from)\s", body, re.M)
    ]
    if defining:
        return defining[-1]
    return blocks[-1][1] if blocks else (response or "")


def run_tests(
    code: str, tests: list[str], *, setup: str | None = None, per_test_s: float | None = None
) -> tuple[list[dict[str, Any]], SandboxResult]:
    """Per test: {"test", "status", "detail"}; status passed|failed|error|timeout|not run.
    ``setup`` runs after the code and before the tests."""
    per_test_s = per_test_s or PER_TEST_S
    wall = min(60.0, per_test_s * (len(tests) + 4) + 2)
    limits = Limits(wall_s=wall, cpu_s=int(wall) + 1)
    script = HARNESS % {"mark": MARK, "per_test": per_test_s}
    files = {"solution.py": code, "tests.json": json.dumps({"tests": tests, "setup": setup})}
    result = run_python(script, limits=limits, files=files)
    seen: dict[int, tuple[str, str]] = {}
    for line in result.stdout.splitlines():
        if line.startswith(MARK):
            i, status, detail = json.loads(line[len(MARK) :])
            seen[int(i)] = (status, detail)
    setup = seen.get(-1)
    missing = ("not run", setup[1] if setup else result.stopped_by or "the run ended early")
    per_test = [
        {"test": t, "status": seen.get(i, missing)[0], "detail": seen.get(i, missing)[1]}
        for i, t in enumerate(tests)
    ]
    return per_test, result


def judge_code_answer(response: str, gold: str) -> Judgement:
    """Run the gold's tests (``assert`` lines or a JSON list) against the answer's code."""
    tests = assertion_lines(gold)
    if not tests:
        return Judgement("code", None, False, "code", "the gold holds no tests")
    return judge_with_tests(response, CodeTests(tuple(tests)))


def judge_with_tests(response: str, tests: CodeTests) -> Judgement:
    """Run ``tests`` (after their setup code) against the answer's code."""
    code = extract_code(response)
    per_test, result = run_tests(code, list(tests.tests), setup=tests.setup)
    passed = sum(1 for t in per_test if t["status"] == "passed")
    ok = passed == len(tests.tests)
    why = f"{passed} of {len(tests.tests)} tests passed ({tests.source()})"
    if result.stopped_by:
        why += f"; stopped by {result.stopped_by}"
    details = {
        "tests": per_test,
        "tests_from": tests.field,
        "stopped_by": result.stopped_by,
        "isolation": result.isolation,
    }
    return Judgement("code", code[:2000], ok, "code", why, details)
