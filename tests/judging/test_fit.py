"""A question no rule judge fits gets no verdict ("not judged"), never "wrong"."""

from __future__ import annotations

import pytest

from tests.app.planning_task import gold_plan, worded_plan
from workers.judging import judge_answer
from workers.judging.fit import NOT_JUDGED, unfit_reason
from workers.scoring.answers import answer_verdict, check_answer

PLAN_Q = "Arrange the blocks. My plan is as follows:\n[PLAN]"


def test_a_plan_is_not_judged_even_when_it_is_valid() -> None:
    j = judge_answer(
        PLAN_Q, worded_plan("red", "blue", "orange"), gold_plan("red", "blue", "orange")
    )
    assert (j.verdict, j.rule, j.answer_type) == (None, NOT_JUDGED, "text")
    assert "sequence of 6 actions" in j.reason


@pytest.mark.parametrize(
    ("gold", "fits"),
    [
        ("Shakespeare", True),
        ("the Treaty of Versailles", True),
        ("x^2 + 2x + 1", True),
        ("(a+b)(a-b)", True),  # an expression, not actions
        ("(pick-up a) (stack a b)", False),  # a plan on one line
        ("First line\nsecond line", False),
        (" ".join(["word"] * 13), False),
    ],
)
def test_which_text_golds_a_judge_fits(gold: str, fits: bool) -> None:
    assert (unfit_reason("text", gold) is None) is fits


def test_other_answer_types_always_fit() -> None:
    assert unfit_reason("number", "72.0") is None
    assert unfit_reason("code", "assert f(1) == 2\nassert f(2) == 3") is None
    assert judge_answer("How many?", "Final Answer: 72", "72.0").verdict is True


def test_the_scan_judge_leaves_a_plan_out_instead_of_calling_it_wrong() -> None:
    gold, answer = gold_plan("a", "b", "c"), gold_plan("a", "b", "c")
    assert answer_verdict("auto", PLAN_Q, answer, gold) is None
    assert check_answer("auto", PLAN_Q, answer, gold) is False  # the SPPL filter's yes/no
    assert answer_verdict("numeric", "How many?", "it is 5", "5") is True


def test_the_web_names_the_rule_as_the_judge_does() -> None:
    from app.schemas.judgements import RULE_TEXTS
    from app.services.verdicts import NOT_JUDGED_RULE

    assert NOT_JUDGED_RULE == NOT_JUDGED and NOT_JUDGED in RULE_TEXTS
