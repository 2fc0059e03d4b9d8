"""Per-question answer types and the rule of each type."""

from __future__ import annotations

import pytest

from app.evaluation.options import parse_options
from workers.judging import detect_answer_type, judge_answer

NUMBERED = (
    "Where would you go to buy milk and eggs?\n"
    "(1) meeting (2) office (3) supermarket (4) garage (5) library"
)
LETTERED = "Which gas do plants take in?\nA. oxygen\nB. carbon dioxide\nC. nitrogen\nD. helium"


def test_numbered_options_are_parsed() -> None:
    options = parse_options(NUMBERED)
    assert [(o.label, o.text) for o in options] == [
        ("1", "meeting"),
        ("2", "office"),
        ("3", "supermarket"),
        ("4", "garage"),
        ("5", "library"),
    ]


def test_lettered_options_on_lines_are_parsed() -> None:
    assert [o.text for o in parse_options(LETTERED)] == [
        "oxygen",
        "carbon dioxide",
        "nitrogen",
        "helium",
    ]


def test_number_and_text_that_disagree_are_wrong_with_a_reason() -> None:
    answer = "(1): meeting is unlikely ... The correct answer is (5): supermarket"
    j = judge_answer(NUMBERED, answer, "5")
    assert j.answer_type == "option" and j.verdict is False
    assert "option 5" in j.reason and "option 3" in j.reason


def test_lettered_label_and_text_that_disagree_are_wrong() -> None:
    j = judge_answer(LETTERED, "The answer is A. carbon dioxide", "B")
    assert j.verdict is False and "option B" in j.reason


@pytest.mark.parametrize(
    "answer",
    [
        "Plants breathe in CO2. The answer is B.",
        "Final Answer: (B) carbon dioxide",
        "Final Answer: carbon dioxide",
        "Plants use it for photosynthesis.\nB",
    ],
)
def test_label_or_option_text_is_accepted(answer: str) -> None:
    assert judge_answer(LETTERED, answer, "B").verdict is True


def test_gold_given_as_option_text() -> None:
    assert detect_answer_type(NUMBERED, "supermarket") == "option"
    assert judge_answer(NUMBERED, "The answer is (3)", "supermarket").verdict is True


def test_last_number_is_not_the_choice() -> None:
    j = judge_answer(NUMBERED, "Option 3 is closest, maybe 5 at most. The answer is (3).", "5")
    assert j.verdict is False and j.extracted == "3"


def test_no_final_choice_is_wrong() -> None:
    j = judge_answer(LETTERED, "Plants are green.", "B")
    assert j.verdict is False and j.reason == "no final choice found"


def test_one_odd_gold_changes_only_its_own_question() -> None:
    golds = ["21", "4.5", "False", "72"]
    assert [detect_answer_type("q", g) for g in golds] == ["number", "number", "yesno", "number"]
    assert judge_answer("q", "So she has 21.0 apples.", "21").verdict is True
    assert judge_answer("q", "Final Answer: 72", "72.0").verdict is True
    assert judge_answer("Is 7 even?", "No, 7 is odd. Final answer: false", "False").verdict is True


@pytest.mark.parametrize(
    ("answer", "gold", "ok"),
    [
        ("so the result is $\\boxed{\\frac{3}{4}}$", "\\frac{3}{4}", True),
        ("The answer is 0.75", "\\frac{3}{4}", True),
        ("Final Answer: \\$1,000", "1000", True),
        ("= 18 dollars", "$18", True),
        ("\\boxed{12^\\circ}", "12", True),
        ("Final Answer: 48 + 24 = 72\nThen 99 more words", "72", True),
        ("The answer is 7", "8", False),
    ],
)
def test_numbers_with_latex_and_units(answer: str, gold: str, ok: bool) -> None:
    j = judge_answer("How much?", answer, gold)
    assert j.answer_type == "number" and j.verdict is ok, j


def test_yes_no() -> None:
    assert detect_answer_type("Is the sky blue?", "yes") == "yesno"
    assert judge_answer("q?", "Let me think. Yes, it is. The answer is yes.", "Yes").verdict
    assert not judge_answer("q?", "The answer is no.", "yes").verdict


def test_span_answer() -> None:
    q = "Who wrote Hamlet?"
    assert detect_answer_type(q, "William Shakespeare") == "text"
    assert judge_answer(
        q, "Final Answer: It was William Shakespeare.", "william shakespeare"
    ).verdict
    assert not judge_answer(q, "Final Answer: Christopher Marlowe", "William Shakespeare").verdict


def test_code_type_from_assertions() -> None:
    assert detect_answer_type("Write add.", '["assert add(1, 2) == 3"]') == "code"
    assert (
        detect_answer_type("Write add.", "assert add(1, 2) == 3\nassert add(0, 0) == 0") == "code"
    )


def test_no_gold_gives_no_verdict() -> None:
    j = judge_answer("q", "4", None)
    assert j.verdict is None and j.rule == "no gold"


def test_a_weak_answer_phrase_mid_text_does_not_beat_the_last_number() -> None:
    answer = (
        "The answer is not 48 yet.\nSo adding the rest...\nFinal Re-stated Answer yielding: 66.0"
    )
    j = judge_answer("How many?", answer, "66.0")
    assert j.verdict is True and j.extracted == "66"


def test_numbered_steps_of_a_word_problem_are_not_options() -> None:
    q = (
        "Solve it step by step.\n1. Tom starts the long day with five apples in his bag, and "
        "then walks all the way to the market on the far side of the town where he meets Ann, "
        "who gives him one more apple\n2. Ann gives away all but two of her own apples to her "
        "neighbours in the afternoon after lunch, then counts the pears that she still has in "
        "her basket\nHow many apples does Tom have now?"
    )
    assert parse_options(q) == []
    assert detect_answer_type(q, "2") == "number"
