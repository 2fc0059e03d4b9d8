"""SPPL exemplar selection: next N wrapping, never own, same for all strategies, shortages."""

from __future__ import annotations

import pytest

from workers.scoring.exemplars import (
    NoExemplarsError,
    OwnAnswer,
    exemplar_text,
    select_exemplars,
)


def pool(correct: list[bool]) -> list[OwnAnswer]:
    return [OwnAnswer(f"q{i}", f"ans{i}", "7", ok) for i, ok in enumerate(correct)]


def test_exemplar_text_appends_gold() -> None:
    assert exemplar_text(OwnAnswer("k", " so 7 \n", "7.0", True)) == "so 7\nFinal Answer: 7.0"
    assert exemplar_text(OwnAnswer("k", "so 7", None, None)) == "so 7"


def test_next_n_positions_wrapping() -> None:
    plan = select_exemplars(["a", "b", "c", "d"], pool([True] * 4), 3)
    assert plan.sources["a"] == ["q1", "q2", "q3"]  # question 0 -> positions 1, 2, 3
    assert plan.sources["c"] == ["q3", "q0", "q1"]  # wraps
    assert plan.sources["d"] == ["q0", "q1", "q2"]
    assert plan.examples["a"][0] == "ans1\nFinal Answer: 7"
    assert plan.filtered
    assert plan.warnings == [  # 4 answers for 4 x 3 slots: reuse is reported
        "4 correct own answers for 4 questions x 3 examples: examples repeat across questions "
        "(4 distinct used)"
    ]
    plenty = select_exemplars(["a", "b"], pool([True] * 6), 3)
    assert not plenty.warnings


def test_only_correct_answers_in_pool_order() -> None:
    plan = select_exemplars(["x"], pool([False, True, False, True, True]), 2)
    assert plan.n_candidates == 3
    assert plan.sources["x"] == ["q3", "q4"]  # correct list is q1, q3, q4; start at position 1


def test_never_the_question_own_answer() -> None:
    keys = [f"q{i}" for i in range(4)]  # the scored questions are also the pool questions
    plan = select_exemplars(keys, pool([True] * 4), 3)
    for key in keys:
        assert key not in plan.sources[key]
        assert len(plan.sources[key]) == 3


def test_same_examples_whatever_the_strategy() -> None:
    """Examples are keyed by question only: the plan has no notion of strategy."""
    a = select_exemplars(["a", "b"], pool([True] * 5), 2)
    b = select_exemplars(["a", "b"], pool([True] * 5), 2)
    assert a.examples == b.examples


def test_fewer_correct_than_n_uses_what_exists_and_warns() -> None:
    plan = select_exemplars(["a", "q1"], pool([False, True, False, True]), 3)
    assert plan.sources["a"] == ["q3", "q1"]
    assert plan.sources["q1"] == ["q3"]  # its own answer is excluded
    assert plan.warnings and "only 2 of 4 own answers were correct" in plan.warnings[0]


def test_examples_reused_across_questions_are_reported() -> None:
    keys = [f"k{i}" for i in range(10)]
    plan = select_exemplars(keys, pool([True] * 7 + [False] * 493), 3)
    assert all(len(v) == 3 for v in plan.examples.values())
    assert plan.warnings == [
        "only 7 of 500 own answers were correct; SPPL used 7 distinct examples for 10 questions"
    ]


def test_no_correct_answer_falls_back_unfiltered() -> None:
    plan = select_exemplars(["a"], pool([False] * 4), 2)
    assert not plan.filtered and plan.sources["a"] == ["q1", "q2"]
    assert "fell back to unfiltered" in plan.warnings[0]


def test_unfiltered_examples_are_the_own_answers_as_generated() -> None:
    """The no-filter ablation: no gold appended, to wrong or to correct answers."""
    own = [
        OwnAnswer("q0", "so the answer is 100.", "210", False),
        OwnAnswer("q1", "7 + 3 = 10, the answer is 10.\n", "10", True),
        OwnAnswer("q2", "I think it is 5.\nFinal Answer: 5", "6", False),
    ]
    fallback = select_exemplars(["a"], [own[0], own[2]], 2)  # none correct: falls back
    assert fallback.examples["a"] == ["I think it is 5.\nFinal Answer: 5", "so the answer is 100."]
    off = select_exemplars(["a"], own, 3, filter_correct=False)
    assert off.examples["a"] == [
        "7 + 3 = 10, the answer is 10.",
        "I think it is 5.\nFinal Answer: 5",
        "so the answer is 100.",
    ]
    assert not any(
        "Final Answer: 210" in e or "Final Answer: 10" in e
        for e in off.examples["a"] + fallback.examples["a"]
    )
    filtered = select_exemplars(["a"], own, 3)  # the filter on: only the correct one, gold added
    assert filtered.examples["a"] == ["7 + 3 = 10, the answer is 10.\nFinal Answer: 10"]


def test_no_correct_answer_without_fallback_raises() -> None:
    with pytest.raises(NoExemplarsError, match="none of the 4 own answers"):
        select_exemplars(["a"], pool([False] * 4), 2, allow_unfiltered_fallback=False)


def test_filter_off_uses_all_answers_and_records_it() -> None:
    plan = select_exemplars(["a"], pool([False, True, False]), 2, filter_correct=False)
    assert not plan.filtered and plan.sources["a"] == ["q1", "q2"]
    assert "filter off" in plan.warnings[0]
