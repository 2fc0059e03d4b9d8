"""math_equiv off the main thread, with a hard time bound on pathological input."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.evaluation import math_equiv
from app.evaluation.extractors import score_output
from app.evaluation.math_equiv import MAX_CHARS, check_equivalent

PATHOLOGICAL = "10^{10^{10^{10}}}"  # sympy tries to evaluate it: minutes, in C


def _in_thread(fn):  # type: ignore[no-untyped-def]
    out: list = []
    worker = threading.Thread(target=lambda: out.append(fn()))
    worker.start()
    worker.join(60)
    assert not worker.is_alive()
    return out[0]


def test_math_verify_with_its_own_timeout_fails_off_the_main_thread() -> None:
    """Why the timeouts are off and bounded by a process: the library's own raise here."""
    from math_verify import parse

    def call() -> str:
        try:
            parse("$\\frac{1}{2}$", parsing_timeout=5, raise_on_error=True)
        except ValueError as exc:
            return str(exc)
        return "no error"

    assert "threaded environment" in _in_thread(call)


def test_checks_work_off_the_main_thread() -> None:
    scored = _in_thread(lambda: score_output("math_equiv", "\\boxed{\\frac{1}{2}}", "0.5"))
    assert scored.correct and scored.why == "equivalent (math-verify)"
    with ThreadPoolExecutor(4) as pool:  # concurrent callers are serialised, all answered
        verdicts = list(pool.map(lambda k: check_equivalent(f"{k}/2", f"{k / 2}"), range(8)))
    assert all(v.equivalent for v in verdicts)


def test_a_pathological_answer_times_out_and_the_next_check_still_works() -> None:
    check_equivalent("1", "1")  # the checker process is up: the bound below is the check's
    started = time.perf_counter()
    verdict = _in_thread(lambda: check_equivalent(PATHOLOGICAL, "1", timeout_s=1.0))
    took = time.perf_counter() - started
    assert verdict.timed_out and not verdict.equivalent and "timed out after 1 s" in verdict.why
    assert took < 5.0  # 1 s, plus killing the process
    assert check_equivalent("\\sqrt{4}", "2").equivalent  # a fresh process answers


def test_a_timed_out_check_is_a_wrong_answer_that_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(math_equiv, "TIMEOUT_S", 1.0)
    scored = score_output("math_equiv", f"\\boxed{{{PATHOLOGICAL}}}", "1")
    assert (scored.extracted, scored.correct) == (PATHOLOGICAL, False)
    assert "timed out" in scored.why


def test_a_long_answer_is_not_checked() -> None:
    verdict = check_equivalent("1+" * MAX_CHARS + "1", "2")
    assert not verdict.equivalent and "not checked" in verdict.why


def test_the_checker_restarts_after_being_stopped() -> None:
    assert check_equivalent("0.25", "\\frac{1}{4}").equivalent
    math_equiv.stop_checker()
    assert check_equivalent("0.75", "\\frac{3}{4}").equivalent
