"""A question's own tests (from a field of the upload) with their setup code, run in the
sandbox; the reason says where the tests came from."""

from __future__ import annotations

from workers.judging import CodeTests, judge_answer

ANSWER = "Sure:\n```python\ndef area(r):\n    return math.pi * r * r\n```\n"
TESTS = CodeTests(("assert math.isclose(area(1), math.pi)",), "test_list", "import math")


def test_the_setup_code_runs_before_the_tests() -> None:
    judgement = judge_answer("Write area(r).", ANSWER, None, tests=TESTS)
    assert judgement.verdict is True and judgement.answer_type == "code"
    assert judgement.reason == "1 of 1 tests passed (tests from the file's field 'test_list')"
    assert judgement.details["tests_from"] == "test_list"
    no_setup = CodeTests(TESTS.tests, "test_list")
    failed = judge_answer("Write area(r).", ANSWER, None, tests=no_setup)
    assert failed.verdict is False and "NameError" in failed.details["tests"][0]["detail"]


def test_a_failing_setup_means_no_test_runs() -> None:
    broken = CodeTests(TESTS.tests, "test_list", "import no_such_module_here")
    judgement = judge_answer("Write area(r).", ANSWER, None, tests=broken)
    test = judgement.details["tests"][0]
    assert judgement.verdict is False and test["status"] == "not run"
    assert "test setup code failed" in test["detail"]


def test_the_questions_own_tests_win_over_reference_code_in_the_gold() -> None:
    gold = "import math\ndef area(r):\n    return math.pi * r ** 2"
    without = judge_answer("Write area(r).", ANSWER, gold)  # reference code fits no judge
    assert without.verdict is None and without.rule == "not judged"
    assert judge_answer("Write area(r).", ANSWER, gold, tests=TESTS).verdict is True


def test_a_hostile_test_is_still_held_by_the_sandbox(tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "pwned.txt"
    hostile = CodeTests((f"assert open({str(target)!r}, 'w').write('x')",), "test_list")
    judgement = judge_answer("Write area(r).", ANSWER, None, tests=hostile)
    assert judgement.verdict is False and not target.exists()
    assert "outside its folder" in judgement.details["tests"][0]["detail"]
