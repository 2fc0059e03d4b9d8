"""Validation statistics against independent computations (hand-computed tails, formulas)."""

from __future__ import annotations

import math

import pytest

from app.stats.validation import (
    accuracy_interval,
    exact_mcnemar,
    metric_vs_accuracy,
    seed_summary,
    strategy_accuracy_table,
    wilson_interval,
)


def _binomial_two_sided(k: int, n: int) -> float:
    """Exact two-sided p of k successes in n fair trials, from the binomial sums by hand:
    twice the smaller tail (the distribution is symmetric), capped at 1."""
    tail = sum(math.comb(n, i) for i in range(0, min(k, n - k) + 1)) / 2**n
    return min(1.0, 2 * tail)


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_mcnemar_table_indices_and_exact_p() -> None:
    a = [True, True, False, True, False, True, True, False, True, True]
    b = [True, False, False, False, True, False, True, False, False, True]
    result = exact_mcnemar(a, b)
    assert (result.n, result.both, result.only_a, result.only_b, result.neither) == (10, 3, 4, 1, 2)
    assert result.only_a_indices == [1, 3, 5, 8] and result.only_b_indices == [4]
    assert result.differing == [1, 3, 4, 5, 8]
    # 5 discordant pairs, 4 vs 1: p = 2 * (C(5,0) + C(5,1)) / 32 = 12/32
    assert result.p_value == pytest.approx(12 / 32, abs=1e-12)
    assert result.p_value == pytest.approx(_binomial_two_sided(4, 5), abs=1e-12)


@pytest.mark.parametrize(("only_a", "only_b"), [(0, 0), (3, 3), (10, 2), (0, 9), (25, 12)])
def test_mcnemar_p_equals_the_hand_computed_binomial_tail(only_a: int, only_b: int) -> None:
    a = [True] * only_a + [False] * only_b + [True] * 5 + [False] * 4
    b = [False] * only_a + [True] * only_b + [True] * 5 + [False] * 4
    result = exact_mcnemar(a, b)
    want = 1.0 if only_a + only_b == 0 else _binomial_two_sided(only_a, only_a + only_b)
    assert result.p_value == pytest.approx(want, rel=1e-9, abs=1e-15)
    assert (result.both, result.neither) == (5, 4)


def test_mcnemar_refuses_runs_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="different numbers of questions: 2 vs 3"):
        exact_mcnemar([True, False], [True, False, True])
    with pytest.raises(ValueError, match="no questions"):
        exact_mcnemar([], [])


@pytest.mark.parametrize(("k", "n"), [(7, 10), (0, 20), (20, 20), (81, 263), (1, 3), (50, 100)])
def test_accuracy_interval_is_the_wilson_interval(k: int, n: int) -> None:
    lo, hi = accuracy_interval([True] * k + [False] * (n - k))
    want_lo, want_hi = _wilson(k, n)
    assert lo == pytest.approx(max(0.0, want_lo), abs=1e-9)
    assert hi == pytest.approx(min(1.0, want_hi), abs=1e-9)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


def test_a_known_wilson_value() -> None:
    """7 of 10 at 95%: (0.3968, 0.8922), the value statsmodels' proportion_confint prints."""
    lo, hi = accuracy_interval([True] * 7 + [False] * 3)
    assert (round(lo, 4), round(hi, 4)) == (0.3968, 0.8922)
    lo90, hi90 = accuracy_interval([True] * 7 + [False] * 3, level=0.90)
    assert lo < lo90 < hi90 < hi


def test_an_interval_needs_questions() -> None:
    with pytest.raises(ValueError):
        accuracy_interval([])
    with pytest.raises(ValueError):
        wilson_interval(0, 0)


def test_seed_summary() -> None:
    s = seed_summary([0.5, 0.6, 0.7])
    assert (s.n, s.min, s.max) == (3, 0.5, 0.7)
    assert s.mean == pytest.approx(0.6) and s.sd == pytest.approx(0.1)
    assert seed_summary([0.4]).sd is None
    with pytest.raises(ValueError):
        seed_summary([])


def test_strategy_accuracy_table_rule() -> None:
    per_run = {
        "gpt4": {0: [True, True, False, True], 1: [True, False, False, True]},  # 0.75, 0.5
        "claude": {0: [True, True, True, False]},  # 0.75, one seed
        "empty": {},
    }
    rows = strategy_accuracy_table(per_run)
    assert [r.strategy for r in rows] == ["claude", "gpt4"]  # best mean first
    claude, gpt4 = rows
    assert claude.interval_lo == pytest.approx(_wilson(3, 4)[0]) and claude.sd is None
    assert gpt4.seeds == {0: 0.75, 1: 0.5} and gpt4.mean == pytest.approx(0.625)
    assert gpt4.sd == pytest.approx(math.sqrt(2 * 0.125**2))
    # the interval over the 4 QUESTIONS at the mean (not over 8 pooled trials)
    z = 1.959963984540054
    p, n = 0.625, 4
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert (gpt4.interval_lo, gpt4.interval_hi) == pytest.approx((centre - half, centre + half))
    assert gpt4.n_questions == 4 and gpt4.n_seeds == 2


def test_strategy_accuracy_table_refuses_seeds_on_different_questions() -> None:
    with pytest.raises(ValueError, match="'gpt4'.*seed 0: 2, seed 1: 3"):
        strategy_accuracy_table({"gpt4": {0: [True, False], 1: [True, False, True]}})


def test_metric_vs_accuracy_reuses_the_agreement_rules() -> None:
    sppl = {"a": 1.2, "b": 1.5, "c": 2.0, "d": 9.0}  # lower is better; d never trained
    acc = {"a": 0.40, "b": 0.55, "c": 0.30}
    result = metric_vs_accuracy(sppl, True, acc)
    assert result.picks == ["a"] and result.best_trained == ["b"]
    assert result.regret == pytest.approx(0.15) and result.top_pick_is_best is False
    assert result.n_strategies == 3
    # oriented: metric order a<b<c, accuracy order b>a>c -> ranks (1,2,3) vs (2,1,3)
    assert result.spearman == pytest.approx(0.5) and result.kendall == pytest.approx(1 / 3)
    assert sorted(result.points) == [("a", 1.2, 0.40), ("b", 1.5, 0.55), ("c", 2.0, 0.30)]
    higher = metric_vs_accuracy({"a": 3.0, "b": 9.0, "c": 1.0}, False, acc)
    assert higher.picks == ["b"] and higher.regret == 0.0 and higher.spearman == pytest.approx(1.0)


def test_metric_vs_accuracy_averages_seed_accuracies() -> None:
    result = metric_vs_accuracy({"a": 1.0, "b": 2.0}, True, {"a": [0.2, 0.4], "b": [0.5, 0.5]})
    assert result.pick_accuracy == pytest.approx(0.3) and result.best_accuracy == 0.5
