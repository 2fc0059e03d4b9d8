"""The correctness rule and the ranking whose recommendation skips what it passes over."""

from __future__ import annotations

import numpy as np
import pytest

from app.stats.correctness import correctness_gate
from app.stats.gated_ranking import rank_recommendable


def shares(**kw: tuple[float | None, int]) -> dict[str, dict]:
    return {name: {"share": s, "n": n} for name, (s, n) in kw.items()}


def test_a_strategy_far_below_the_best_is_passed_over() -> None:
    gate = correctness_gate(shares(own=(0.0, 20), gpt=(0.9, 20), human=(0.85, 20)), margin=10)
    assert gate.active
    assert gate.best == ("gpt",) and gate.best_share == 0.9
    assert list(gate.passed_over) == ["own"]
    assert "0% correct, 90 points below the best (90%, gpt)" in gate.passed_over["own"]
    assert "1 strategy is passed over" in gate.note


def test_the_margin_is_inclusive_and_adjustable() -> None:
    data = shares(a=(0.9, 10), b=(0.8, 10), c=(0.7, 10))
    assert list(correctness_gate(data, margin=10).passed_over) == ["c"]  # b: exactly 10 below
    assert list(correctness_gate(data, margin=5).passed_over) == ["b", "c"]
    assert correctness_gate(data, margin=100).passed_over == {}
    assert "every strategy is within that margin" in correctness_gate(data, margin=30).note


def test_no_gold_answers_make_the_rule_inactive() -> None:
    for data in (None, {}, shares(a=(None, 0), b=(float("nan"), 0))):
        gate = correctness_gate(data)
        assert not gate.active and gate.passed_over == {}
        assert "correctness rule is inactive" in gate.note


def test_when_nothing_is_correct_nothing_is_recommendable() -> None:
    gate = correctness_gate(shares(a=(0.0, 10), b=(0.0, 10), unchecked=(None, 0)))
    assert sorted(gate.passed_over) == ["a", "b"]


def values(means: dict[str, float], n: int = 30) -> dict[str, dict[str, float]]:
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.05, size=n)
    return {
        s: {str(i): m + noise[i] + 0.01 * rng.random() for i in range(n)} for s, m in means.items()
    }


def test_low_perplexity_strategy_with_no_correct_answer_is_not_recommended() -> None:
    vals = values({"own": 2.0, "gpt": 3.0, "human": 4.0})
    gate = correctness_gate(shares(own=(0.0, 30), gpt=(0.9, 30), human=(0.95, 30)))
    ranking = rank_recommendable(vals, passed_over=gate.passed_over)
    rows = {r["name"]: r for r in ranking["strategies"]}
    assert ranking["order"] == ["own", "gpt", "human"]  # still ranked by familiarity
    assert rows["own"]["rank"] == 1 and not rows["own"]["recommendable"]
    assert rows["own"]["passed_over"].startswith("0% correct")
    assert rows["own"]["vs_top"] is None and rows["own"]["is_top"] is False
    rec = ranking["recommendation"]
    assert rec["top"] == "gpt" and rows["gpt"]["is_top"]
    assert rec["passed_over_above"] == ["own"]
    assert rec["caveat"].startswith("own ranks above gpt but was passed over")
    assert rows["human"]["vs_top"]["n_pairs"] == 30  # tested against the pick, not own
    assert rows["human"]["indistinguishable_from_top"] is False
    assert "among the recommendable strategies" in ranking["method"]


def test_nothing_passed_over_leaves_the_ranking_as_it_was() -> None:
    vals = values({"a": 2.0, "b": 3.0})
    ranking = rank_recommendable(vals, passed_over={})
    assert ranking["recommendation"]["top"] == "a"
    assert all(r["recommendable"] for r in ranking["strategies"])


def test_all_passed_over_gives_no_recommendation() -> None:
    ranking = rank_recommendable(values({"a": 2.0, "b": 3.0}), passed_over={"a": "x", "b": "y"})
    assert ranking["recommendation"]["top"] is None
    assert ranking["recommendation"]["caveat"].startswith("No strategy can be recommended")
    assert not any(r["is_top"] for r in ranking["strategies"])


@pytest.mark.parametrize("margin", [0.0, 10.0, 50.0])
def test_the_best_strategy_is_never_passed_over(margin: float) -> None:
    gate = correctness_gate(shares(a=(0.4, 10), b=(0.2, 10)), margin=margin)
    assert "a" not in gate.passed_over
