"""The demo word-problem generator."""

from __future__ import annotations

import dataclasses
import re
import time

import pytest

from app.demo import INSTRUCTION, TEMPLATES, DemoProblem, evaluate, generate_problems
from app.demo.problems import MULTI_STEP_EVERY
from app.demo.warmup import WARMUP_TEMPLATES


@pytest.fixture(scope="module")
def problems() -> list[DemoProblem]:
    return generate_problems(300, seed=0)


def test_same_seed_same_problems(problems):
    assert generate_problems(300, seed=0) == problems


def test_other_seed_other_problems(problems):
    other = generate_problems(300, seed=1)
    assert [p.question for p in other] != [p.question for p in problems]
    assert len({p.question for p in other} & {p.question for p in problems}) < 10


def test_shorter_run_is_a_prefix(problems):
    assert generate_problems(25, seed=0) == problems[:25]


def test_zero_and_negative():
    assert generate_problems(0) == []
    with pytest.raises(ValueError):
        generate_problems(-1)


def test_frozen(problems):
    with pytest.raises(dataclasses.FrozenInstanceError):
        problems[0].gold = "1"  # type: ignore[misc]


def test_ids(problems):
    assert [p.id for p in problems] == [f"demo-{i:04d}" for i in range(1, 301)]


def test_question_layout(problems):
    for p in problems:
        assert p.question == f"{p.body}\n\n{INSTRUCTION}\n"
        assert p.question.endswith(
            "Please provide the final answer (a number) at the end, after 'Final Answer:'\n"
        )
        assert p.body.rstrip().endswith("?")


def test_distinct_questions(problems):
    assert len({p.question for p in problems}) == len(problems)
    many = generate_problems(2000, seed=7)
    assert len({p.body for p in many}) == 2000


def test_gold_is_a_positive_integer_and_the_last_step(problems):
    for p in problems:
        assert re.fullmatch(r"[1-9]\d*", p.gold), p
        assert int(p.gold) == p.steps[-1].value


def test_steps_are_exact_integer_arithmetic(problems):
    for p in problems:
        assert 2 <= len(p.steps) <= 4 if p.topic in TEMPLATES else len(p.steps) == 1, p
        for description, expression, value in p.steps:
            assert description and description == description.strip()
            assert re.fullmatch(r"[\d +\-*/()]+", expression), expression
            assert isinstance(value, int) and value > 0
            # independent check with Python's own float arithmetic
            assert eval(expression, {"__builtins__": {}}) == pytest.approx(value)  # noqa: S307
            assert evaluate(expression) == value


def test_every_step_result_is_used_or_is_the_answer(problems):
    """A step's value feeds a later step (its number appears there) unless it is the last."""
    for p in problems:
        for i, step in enumerate(p.steps[:-1]):
            later = " ".join(s.expression for s in p.steps[i + 1 :])
            assert re.search(rf"(?<!\d){step.value}(?!\d)", later), (p.body, step)


def test_numbers_in_the_question_are_realistic(problems):
    for p in problems:
        assert 0 < int(p.gold) < 100_000
        assert "$0 " not in p.body and " 0 " not in p.body


def test_topics_are_varied():
    problems = generate_problems(MULTI_STEP_EVERY * (len(TEMPLATES) + 1), seed=0)
    assert len(TEMPLATES) >= 30 and len(WARMUP_TEMPLATES) >= 8
    assert {p.topic for p in problems} == set(TEMPLATES) | set(WARMUP_TEMPLATES)
    hard = [p.topic for p in problems if p.topic in TEMPLATES]
    easy = [p.topic for p in problems if p.topic in WARMUP_TEMPLATES]
    assert set(hard[: len(TEMPLATES)]) == set(TEMPLATES)  # a full round before any repeats
    assert set(easy[: len(WARMUP_TEMPLATES)]) == set(WARMUP_TEMPLATES)


def test_one_problem_in_eight_is_multi_step(problems):
    """The calibration mix: one-step warm-ups with a multi-step problem every 8th."""
    hard = [i for i, p in enumerate(problems) if p.topic in TEMPLATES]
    assert hard == list(range(MULTI_STEP_EVERY - 1, len(problems), MULTI_STEP_EVERY))
    for p in problems:
        if p.topic in WARMUP_TEMPLATES:
            a, op, b = p.steps[0].expression.split()
            assert op in "+-*" and int(a) <= 12 and int(b) <= 12, p.body


def test_every_template_works_for_many_seeds():
    for seed in range(20):
        for p in generate_problems(MULTI_STEP_EVERY * len(TEMPLATES), seed=seed):
            assert int(p.gold) == evaluate(p.steps[-1].expression)


def test_fast():
    start = time.perf_counter()
    generate_problems(300, seed=3)
    assert time.perf_counter() - start < 0.5


def test_evaluate_rejects_anything_but_arithmetic():
    assert evaluate("2 * (3 + 4) / 7") == 2
    for bad in ("2 ** 3", "abs(-1)", "x + 1", "1.5 + 1", "-1"):
        with pytest.raises((ValueError, SyntaxError)):
            evaluate(bad)
