"""Study numbers against a hand computation on a small made-up study.

Four projects (points are accuracy x 100; spreads are sample std, ddof 1):
- P1: A seeds 60, 62 -> 61; B one seed that ran -> 50; C 55, 57, 59 -> 57. Spread sqrt(31).
  PPL ties A and C at the top (2.0); SPPL ranks A, C, B exactly as accuracy does.
- P2 "flat": A 40, B 40: zero spread, correlations undefined.
- P3 "single": only A has an accuracy: one strategy, nothing to choose.
- P4: percentages (80, 70 -> 75; 60; 66), PPL ranks them backwards; no SPPL at all.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.stats.studies import (
    MetricInput,
    ProjectInput,
    average_ranks,
    compute_study,
    correlation,
    mean_accuracies,
)

approx = pytest.approx


def _m(scores: dict[str, float], lower: bool = True) -> MetricInput:
    return MetricInput(lower_is_better=lower, samples=[scores])


P1 = ProjectInput(
    1,
    "P1",
    {"A": [0.60, 0.62], "B": [0.50], "C": [0.55, 0.57, 0.59]},
    {"ppl": _m({"A": 2.0, "B": 3.0, "C": 2.0}), "sppl": _m({"A": 1.5, "B": 2.5, "C": 2.0})},
)
P2 = ProjectInput(
    2,
    "P2 flat",
    {"A": [0.4], "B": [0.4]},
    {"ppl": _m({"A": 1.0, "B": 2.0}), "sppl": _m({"A": 2.0, "B": 1.0})},
)
P3 = ProjectInput(
    3,
    "P3 single",
    {"A": [0.7]},
    {"ppl": _m({"A": 1.0, "B": 2.0}), "sppl": _m({"A": 1.0, "B": 2.0})},
)
P4 = ProjectInput(
    4,
    "P4 percent",
    {"A": [80, 70], "B": [60], "C": [66]},
    {"ppl": _m({"A": 3.0, "B": 1.0, "C": 2.0})},
)
STUDY = [P1, P2, P3, P4]
S1, S4 = math.sqrt(31), math.sqrt(57)
RHO1, TAU1 = 1.5 / math.sqrt(3), 2 / math.sqrt(6)  # PPL in P1, ranks with a tie


def rows_of(result, metric: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {r.project: r for r in result.rows if r.metric == metric}


def test_seed_means_and_scales() -> None:
    assert mean_accuracies(P1.accuracies) == approx({"A": 61.0, "B": 50.0, "C": 57.0})
    assert mean_accuracies(P4.accuracies) == approx({"A": 75.0, "B": 60.0, "C": 66.0})
    assert mean_accuracies({"A": [float("nan"), 0.5], "B": []}) == approx({"A": 50.0})


def test_per_project_rows_by_hand() -> None:
    result = compute_study(STUDY)
    ppl = rows_of(result, "ppl")
    p1 = ppl["P1"]
    assert p1.status == "ok" and p1.picks == [["A", "C"]]
    assert p1.pick_accuracy == approx(59.0)  # mean of the tied picks
    assert (p1.oracle, p1.random, p1.regret) == approx((61.0, 56.0, 2.0))
    assert p1.spread == approx(S1)
    assert (p1.spearman, p1.kendall) == approx((RHO1, TAU1))
    assert p1.pick_counts == approx({"A": 0.5, "C": 0.5})
    p2 = ppl["P2 flat"]
    assert (p2.pick_accuracy, p2.oracle, p2.random, p2.spread) == approx((40, 40, 40, 0))
    assert p2.spearman is None and p2.kendall is None
    p3 = ppl["P3 single"]
    assert p3.status == "one_strategy" and p3.pick_accuracy is None
    assert p3.missing_strategies == []  # B has scores but no accuracy: not compared at all
    p4 = ppl["P4 percent"]
    assert (p4.pick_accuracy, p4.oracle, p4.random) == approx((60.0, 75.0, 67.0))
    assert (p4.spearman, p4.kendall, p4.spread) == approx((-1.0, -1.0, S4))
    assert rows_of(result, "sppl")["P4 percent"].status == "missing"
    sppl_p1 = rows_of(result, "sppl")["P1"]
    assert (sppl_p1.spearman, sppl_p1.kendall, sppl_p1.pick_accuracy) == approx((1, 1, 61))


def test_summary_unweighted_and_weighted_by_hand() -> None:
    result = compute_study(STUDY, thresholds=(2, 6))
    ppl, sppl = (m for m in result.metrics)
    assert ppl.metric == "ppl" and ppl.one_strategy == ["P3 single"] and ppl.missing == []
    everything, above2, above6 = ppl.subsets
    assert everything.threshold is None and everything.n_projects == 3
    assert everything.pick_accuracy == approx((59 + 40 + 60) / 3)
    assert everything.oracle == approx((61 + 40 + 75) / 3)
    assert everything.random == approx((56 + 40 + 67) / 3)
    assert everything.n_correlated == 2  # the flat project has no correlation
    assert everything.spearman == approx((RHO1 - 1) / 2)
    assert everything.kendall == approx((TAU1 - 1) / 2)
    assert everything.weighted_spearman == approx((RHO1 * S1 - S4) / (S1 + S4))
    assert everything.weighted_kendall == approx((TAU1 * S1 - S4) / (S1 + S4))
    assert above2.n_projects == 2 and above2.pick_accuracy == approx(59.5)
    assert above6.n_projects == 1 and above6.weighted_spearman == approx(-1.0)
    assert sppl.missing == ["P4 percent"] and sppl.one_strategy == ["P3 single"]
    all_sppl = sppl.subsets[0]
    assert all_sppl.n_projects == 2 and all_sppl.pick_accuracy == approx((61 + 40) / 2)
    assert all_sppl.spearman == approx(1.0) and all_sppl.weighted_spearman == approx(1.0)


def test_weighting_changes_the_answer() -> None:
    """Unweighted, the two projects cancel out; weighted, the wide one wins."""
    wide = ProjectInput(
        1, "wide", {"A": [0.9], "B": [0.5], "C": [0.1]}, {"m": _m({"A": 1, "B": 2, "C": 3})}
    )
    narrow = ProjectInput(
        2, "narrow", {"A": [0.51], "B": [0.50], "C": [0.49]}, {"m": _m({"A": 3, "B": 2, "C": 1})}
    )
    s = compute_study([wide, narrow]).metrics[0].subsets[0]
    assert s.spearman == approx(0.0)
    assert s.weighted_spearman == approx((40 - 1) / (40 + 1))


def test_direction_and_samples() -> None:
    """Higher-is-better metrics are oriented; each sample picks, the project averages."""
    samples = MetricInput(
        lower_is_better=False,
        samples=[
            {"A": 9.0, "B": 1.0, "C": 5.0},  # picks A (61), ranks like accuracy
            {"A": 1.0, "B": 9.0, "C": 5.0},  # picks B (50), ranks backwards... except C
        ],
    )
    project = ProjectInput(1, "P1", P1.accuracies, {"reward": samples})
    row = compute_study([project]).rows[0]
    assert row.n_samples == 2 and row.picks == [["A"], ["B"]]
    assert row.pick_accuracy == approx(55.5) and row.pick_counts == {"A": 1.0, "B": 1.0}
    assert row.spearman == approx((1.0 + -1.0) / 2)


def test_all_tied_metric_and_no_accuracy() -> None:
    tied = ProjectInput(1, "tied", {"A": [0.6], "B": [0.4]}, {"m": _m({"A": 1.0, "B": 1.0})})
    none = ProjectInput(2, "none", {}, {"m": _m({"A": 1.0, "B": 2.0})})
    result = compute_study([tied, none])
    row = rows_of(result, "m")["tied"]
    assert row.pick_accuracy == approx(50.0) and row.spearman is None
    assert result.metrics[0].no_accuracy == ["none"]


def test_correlations_match_scipy_with_ties() -> None:
    from scipy import stats

    rng = np.random.default_rng(3)
    for n in (2, 3, 5, 8, 15):
        for _ in range(40):
            x = [float(v) for v in rng.integers(0, 4, n)]
            y = [float(v) for v in rng.integers(0, 4, n)]
            rho, tau = correlation(x, y)
            if len(set(x)) < 2 or len(set(y)) < 2:
                assert (rho, tau) == (None, None)
                continue
            assert rho == approx(stats.spearmanr(x, y).statistic, abs=1e-12)
            assert tau == approx(stats.kendalltau(x, y).statistic, abs=1e-12)
    assert average_ranks([3.0, 1.0, 3.0, 2.0]) == [3.5, 1.0, 3.5, 2.0]
