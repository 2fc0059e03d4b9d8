"""Paired comparison: Wilcoxon p-values against exact hand computations, bootstrap checks."""

from __future__ import annotations

import dataclasses
import itertools
import json

import numpy as np
import pytest
from scipy import stats

from app.stats.paired import (
    TOO_FEW,
    align_pairs,
    compare_paired,
    paired_bootstrap_ci,
    signed_rank_test,
    win_counts,
)


def exact_two_sided_p(diffs: np.ndarray) -> float:
    """Exact Wilcoxon p without ties: count subsets of ranks 1..n by sum (dynamic programming)."""
    n = diffs.size
    ranks = stats.rankdata(np.abs(diffs))
    w_plus = int(ranks[diffs > 0].sum())
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1
    for r in range(1, n + 1):
        counts[r:] = counts[r:] + counts[:-r].copy()
    total = 2.0**n
    lower, upper = counts[: w_plus + 1].sum() / total, counts[w_plus:].sum() / total
    return min(1.0, 2 * min(lower, upper))


def enumerated_two_sided_p(diffs: np.ndarray) -> float:
    """p by enumerating all sign flips of the mid-ranks of the non-zero differences (ties)."""
    nz = diffs[diffs != 0]
    ranks = stats.rankdata(np.abs(nz))
    observed = ranks[nz > 0].sum()
    null = np.array(
        [ranks[np.array(signs)].sum() for signs in itertools.product([False, True], repeat=nz.size)]
    )
    eps = 1e-9
    lower, upper = np.mean(null <= observed + eps), np.mean(null >= observed - eps)
    return min(1.0, 2 * min(lower, upper))


def test_hand_computed_six_pairs() -> None:
    # all positive: only the empty set has W- = 0, p = 2 * 1/64
    assert signed_rank_test(np.array([1.0, 2, 3, 4, 5, 6])).p_value == pytest.approx(2 / 64)
    # one negative with rank 1: W- = 1, two subsets with sum <= 1, p = 2 * 2/64
    res = signed_rank_test(np.array([-1.0, 2, 3, 4, 5, 6]))
    assert res.p_value == pytest.approx(4 / 64)
    assert (res.r_plus, res.r_minus) == (20.0, 1.0)
    assert res.effect_size == pytest.approx(19 / 21)


@pytest.mark.parametrize("n", [6, 9, 17, 30, 50])
def test_exact_p_matches_subset_sum_distribution(n: int) -> None:
    rng = np.random.default_rng(n)
    diffs = rng.normal(0.3, 1.0, n)
    res = signed_rank_test(diffs)
    assert res.status == "ok"
    assert res.p_value == pytest.approx(exact_two_sided_p(diffs), rel=1e-9)


def test_ties_and_zeros_match_sign_flip_enumeration() -> None:
    diffs = np.array([1.0, 1.0, 2.0, -3.0, 3.0, 4.0, 5.0, 0.0, -1.0, 6.0])
    res = signed_rank_test(diffs)
    assert res.n_pairs == 10 and res.n_nonzero == 9
    assert res.p_value == pytest.approx(enumerated_two_sided_p(diffs), rel=1e-9)


def test_thirteen_tied_pairs_match_enumeration_and_scipy() -> None:
    diffs = np.array([2.0, -2.0, 1, 1, 3, 3, 3, -4, 5, 6, 6, 7, 8, 0.0])
    res = signed_rank_test(diffs)
    assert res.n_nonzero == 13
    assert res.p_value == pytest.approx(enumerated_two_sided_p(diffs), rel=1e-9)
    ref = stats.wilcoxon(diffs[:9], zero_method="wilcox", method="auto")  # scipy, with ties
    assert signed_rank_test(diffs[:9]).p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert signed_rank_test(diffs[:9]).statistic == pytest.approx(ref.statistic)


def test_large_sample_matches_scipy_called_on_the_two_arrays() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.lognormal(1, 0.5, 300), rng.lognormal(1.05, 0.5, 300)
    res = signed_rank_test(a - b)
    ref = stats.wilcoxon(a, b)  # scipy's (x, y) form, normal approximation for n > 50
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    assert res.statistic == pytest.approx(ref.statistic)


@pytest.mark.parametrize(
    ("diffs", "nonzero"),
    [
        (np.array([1.0, -2, 3, 4, 5]), 5),
        (np.zeros(20), 0),
        (np.array([0.0] * 10 + [1, 2]), 2),
        (np.array([]), 0),
    ],
)
def test_too_few_pairs_is_reported_not_raised(diffs: np.ndarray, nonzero: int) -> None:
    res = signed_rank_test(diffs)
    assert res.status == TOO_FEW and res.p_value is None and res.statistic is None
    assert res.n_nonzero == nonzero and not res.testable
    assert TOO_FEW in res.note


def test_bootstrap_matches_plain_loop_and_scipy() -> None:
    rng = np.random.default_rng(7)
    diffs = rng.normal(0.5, 2.0, 37)
    low, high = paired_bootstrap_ci(diffs, n_resamples=999, level=0.9, seed=11)
    loop_rng = np.random.default_rng(11)
    means = [diffs[loop_rng.integers(0, diffs.size, diffs.size)].mean() for _ in range(999)]
    assert (low, high) == pytest.approx(tuple(np.percentile(means, [5, 95])), rel=1e-12)
    ref = stats.bootstrap(
        (diffs,),
        np.mean,
        n_resamples=999,
        confidence_level=0.9,
        method="percentile",
        rng=np.random.default_rng(11),
    )
    ci = ref.confidence_interval
    assert (low, high) == pytest.approx((ci.low, ci.high), rel=1e-12)


def test_bootstrap_covers_known_mean_difference() -> None:
    rng = np.random.default_rng(3)
    true_diff, hits, reps = 0.3, 0, 300
    for rep in range(reps):
        shared = rng.lognormal(1, 0.5, 40)  # per-question difficulty, cancels in the pairs
        a = shared + true_diff + rng.normal(0, 0.5, 40)
        low, high = paired_bootstrap_ci(a - shared, n_resamples=400, seed=rep)
        hits += low <= true_diff <= high
    assert 0.88 <= hits / reps <= 0.99


def test_bootstrap_degenerate_inputs() -> None:
    assert np.isnan(paired_bootstrap_ci(np.array([]))).all()
    assert paired_bootstrap_ci(np.array([2.5])) == (2.5, 2.5)
    assert paired_bootstrap_ci(np.zeros(10)) == (0.0, 0.0)


def test_win_counts_ties_half_and_direction() -> None:
    a, b = np.array([1.0, 2, 3, 4]), np.array([2.0, 2, 1, 5])
    assert win_counts(a, b) == (2, 1, 1)
    assert win_counts(a, b, lower_is_better=False) == (1, 2, 1)


def test_align_pairs_drops_unshared_and_non_finite() -> None:
    a = {"q1": 1.0, "q2": float("nan"), "q3": 3.0, "q4": 4.0, "q5": "x"}
    b = {"q3": 2.0, "q1": 0.5, "q2": 1.0, "q5": 1.0, "q6": 9.0, "q4": float("inf")}
    keys, xa, xb, dropped = align_pairs(a, b)  # type: ignore[arg-type]
    assert keys == ["q1", "q3"] and xa.tolist() == [1.0, 3.0] and xb.tolist() == [0.5, 2.0]
    assert dropped == 3


def test_compare_paired_fields_and_json() -> None:
    rng = np.random.default_rng(5)
    base = rng.lognormal(1, 0.5, 30)
    a = {f"q{i}": float(v) for i, v in enumerate(base)}
    b = {f"q{i}": float(v + 0.2 + 0.05 * rng.normal()) for i, v in enumerate(base)}
    b["q0"] = float("nan")
    res = compare_paired(a, b, seed=1)
    assert res.n_pairs == 29 and res.n_dropped == 1
    assert res.mean_diff == pytest.approx(res.mean_a - res.mean_b)
    assert res.diff_ci_low < res.mean_diff < res.diff_ci_high < 0
    assert res.win_rate_a == pytest.approx((res.wins_a + res.ties / 2) / 29)
    assert res.test.p_value < 1e-4 and res.test.effect_size < 0
    out = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert out["test"]["status"] == "ok" and out["win_rate_a"] == res.win_rate_a
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.n_pairs = 3  # type: ignore[misc]


def test_compare_paired_without_shared_questions() -> None:
    res = compare_paired({"q1": 1.0}, {"q2": 2.0})
    out = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert out["n_pairs"] == 0 and out["mean_diff"] is None and out["win_rate_a"] is None
    assert out["diff_ci_low"] is None and out["test"]["status"] == TOO_FEW
