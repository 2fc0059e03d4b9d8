"""Answer checking and the judge registry."""

from __future__ import annotations

import pytest

from workers.scoring.answers import (
    UnknownJudgeError,
    choice_judge,
    detect_task_kind,
    exact_judge,
    get_judge,
    numeric_judge,
    register_judge,
)


@pytest.mark.parametrize(
    ("response", "gold", "ok"),
    [
        ("She sold 48 + 24 = 72 clips.\nFinal Answer: 72", "72.0", True),
        ("Final Answer: 72.0", "72", True),
        ("The total is $1,000.", "1000", True),
        ("It costs 1,000 dollars", "1,000.0", True),
        ("Final Answer: 18 dollars", "18.0", True),
        ("so 50% of them", "50", True),
        ("Final Answer: 48 + 24 = 72\nStep 5: 3 more", "72", True),
        ("The answer is 71.", "72.0", False),
        ("No number at all", "72", False),
        ("x = -5", "-5", True),
        ("0.5 of it", ".5", True),
    ],
)
def test_numeric(response: str, gold: str, ok: bool) -> None:
    assert numeric_judge(response, gold) is ok


@pytest.mark.parametrize(
    ("response", "gold", "ok"),
    [
        ("The answer is (B).", "B", True),
        ("Final Answer: C", "(C)", True),
        ("A is tempting, but (D)", "D", True),
        ("Final Answer: A", "B. Paris", False),
        ("no letter here", "A", False),
    ],
)
def test_choice(response: str, gold: str, ok: bool) -> None:
    assert choice_judge(response, gold) is ok


def test_exact() -> None:
    assert exact_judge("reasoning...\nFinal Answer: Paris.", "paris")
    assert exact_judge("  Yes ", "yes")
    assert not exact_judge("Final Answer: Lyon", "Paris")


def test_registry_and_typo_suggestion() -> None:
    assert get_judge("numeric") is numeric_judge
    with pytest.raises(UnknownJudgeError, match="did you mean 'numeric'"):
        get_judge("numerc")
    with pytest.raises(UnknownJudgeError, match="known: auto, choice, exact, numeric"):
        get_judge("zzzzzz")


def test_register_judge() -> None:
    register_judge("always", lambda _r, _g: True)
    assert get_judge("always")("x", "y")


def test_detect_task_kind() -> None:
    assert detect_task_kind(["72.0", "1,000", "$5", None]) == "numeric"
    assert detect_task_kind(["A", "(B)", "c".upper()]) == "choice"
    assert detect_task_kind(["Paris", "3"]) == "exact"
    assert detect_task_kind([None, ""]) == "exact"


def test_auto_judges_each_question_by_its_own_type() -> None:
    """One odd gold ("False") no longer switches numeric questions to exact matching."""
    from workers.scoring.answers import AUTO, check_answer

    assert detect_task_kind(["21", "False"]) == "exact"  # the old project-wide rule
    assert check_answer(AUTO, "How many?", "She has 21.0 apples.", "21")
    assert check_answer(AUTO, "Is 4 odd?", "The answer is false.", "False")
    assert not check_answer("exact", "How many?", "She has 21.0 apples.", "21")
