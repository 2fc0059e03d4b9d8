"""Statistics of a validation: accuracy per strategy, paired tests, metric against accuracy.

Inputs are per-question correctness lists (``True``/``False`` per test question, in the same
question order for every run) and per-strategy numbers. Rules:

- ``exact_mcnemar``: the exact McNemar test of two runs on the SAME questions. Only the
  discordant questions carry information; under "no difference" each is equally likely to
  favour either run, so ``only_a ~ Binomial(only_a + only_b, 1/2)``. The p-value is the
  exact two-sided binomial p-value (``scipy.stats.binomtest``; 1.0 with no discordant pair).
- ``accuracy_interval``: the Wilson score interval of a proportion over questions (scipy's
  ``BinomTestResult.proportion_ci(method="wilson")``). Wilson rather than the normal
  ("Wald") interval: it stays inside [0, 1] and keeps its coverage at accuracies near 0 or
  1 and for the 100-question test sets of a CPU demo.
- ``seed_summary``: mean, sample standard deviation (ddof 1; None with one seed), min, max.
- ``strategy_accuracy_table``: per strategy, the mean over seeds of each seed's accuracy
  (DESIGN.md: "accuracy of a strategy = mean over its seeds that produced a result"), its
  spread over seeds, and a 95% interval over QUESTIONS: the Wilson interval at the mean
  accuracy with n = the number of test questions. Seeds answer the same questions, so they
  add no new questions (pooling n x seeds trials would shrink the interval falsely); with
  one seed this is exactly the Wilson interval of that run; with several it is slightly
  conservative, because a question's mean correctness over seeds has a variance at most
  p(1 - p).
- ``metric_vs_accuracy``: a metric's top pick against the best-trained strategy, with
  Spearman and Kendall between the metric's ranking and the accuracy ranking; computed by
  ``app.stats.agreement.top_pick`` (ties, regret and orientation as documented there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from app.stats.agreement import accuracy_table, top_pick

LEVEL = 0.95


@dataclass(frozen=True)
class McNemar:
    """Two runs on the same questions: the 2x2 table, the exact p-value, where they differ."""

    n: int
    both: int  # right in both runs
    only_a: int  # right in run a only
    only_b: int  # right in run b only
    neither: int
    p_value: float
    differing: list[int]  # indices of the questions where the runs disagree
    only_a_indices: list[int]
    only_b_indices: list[int]


@dataclass(frozen=True)
class SeedSummary:
    n: int
    mean: float
    sd: float | None  # sample standard deviation (ddof 1); None with one seed
    min: float
    max: float


@dataclass(frozen=True)
class StrategyAccuracy:
    """One row of the accuracy table (accuracies are fractions in [0, 1])."""

    strategy: str
    n_seeds: int
    n_questions: int
    mean: float
    sd: float | None
    min: float
    max: float
    seeds: dict[int, float]  # seed -> that run's accuracy
    interval_lo: float  # 95% Wilson interval over questions at the mean accuracy
    interval_hi: float


@dataclass(frozen=True)
class MetricVsAccuracy:
    """How well one metric's ranking predicted the trained accuracies."""

    n_strategies: int
    picks: list[str]  # the metric's best strategies among the trained ones (ties: several)
    best_trained: list[str]  # the strategies with the highest accuracy (ties: several)
    top_pick_is_best: bool | None
    pick_accuracy: float | None
    best_accuracy: float | None
    regret: float | None  # best accuracy minus the pick's (0 when the pick is best)
    spearman: float | None  # positive: the metric's ranking agrees with the accuracy ranking
    spearman_p: float | None
    kendall: float | None
    kendall_p: float | None
    points: list[tuple[str, float, float]]  # (strategy, metric score, accuracy), to plot


def _bools(values: Sequence[bool], name: str) -> np.ndarray:
    arr = np.asarray([bool(v) for v in values], dtype=bool)
    if arr.size == 0:
        raise ValueError(f"{name}: no questions")
    return arr


def exact_mcnemar(a: Sequence[bool], b: Sequence[bool]) -> McNemar:
    """The exact McNemar test of runs ``a`` and ``b`` (correctness per question, same order)."""
    x, y = _bools(a, "run a"), _bools(b, "run b")
    if x.size != y.size:
        raise ValueError(f"the runs answered different numbers of questions: {x.size} vs {y.size}")
    only_a = np.flatnonzero(x & ~y).tolist()
    only_b = np.flatnonzero(~x & y).tolist()
    discordant = len(only_a) + len(only_b)
    p = stats.binomtest(len(only_a), discordant, 0.5).pvalue if discordant else 1.0
    return McNemar(
        n=int(x.size),
        both=int((x & y).sum()),
        only_a=len(only_a),
        only_b=len(only_b),
        neither=int((~x & ~y).sum()),
        p_value=float(min(1.0, p)),
        differing=sorted(only_a + only_b),
        only_a_indices=only_a,
        only_b_indices=only_b,
    )


def wilson_interval(successes: float, n: int, level: float = LEVEL) -> tuple[float, float]:
    """The Wilson score interval of ``successes`` out of ``n`` (successes may be fractional)."""
    if n <= 0:
        raise ValueError("an accuracy interval needs at least one question")
    k = int(round(successes))
    if abs(successes - k) < 1e-9:
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
        return float(ci.low), float(ci.high)
    return _wilson_formula(successes / n, n, level)  # a mean over seeds: not an integer count


def _wilson_formula(p: float, n: int, level: float) -> tuple[float, float]:
    z = float(stats.norm.ppf(0.5 + level / 2))
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def accuracy_interval(correct: Sequence[bool], level: float = LEVEL) -> tuple[float, float]:
    """Wilson interval of the accuracy over questions (see the module docstring)."""
    arr = _bools(correct, "accuracy interval")
    return wilson_interval(int(arr.sum()), int(arr.size), level)


def seed_summary(accuracies: Sequence[float]) -> SeedSummary:
    """Mean, sd (ddof 1; None for one seed), min, max and count of per-seed accuracies."""
    arr = np.asarray([float(v) for v in accuracies], dtype=np.float64)
    if arr.size == 0:
        raise ValueError("no seed accuracies to summarise")
    sd = float(arr.std(ddof=1)) if arr.size > 1 else None
    return SeedSummary(int(arr.size), float(arr.mean()), sd, float(arr.min()), float(arr.max()))


def strategy_accuracy_table(
    per_run: Mapping[str, Mapping[int, Sequence[bool]]], level: float = LEVEL
) -> list[StrategyAccuracy]:
    """One row per strategy with at least one run, best mean first (see the module docstring).

    Every run of a strategy must cover the same number of questions; a strategy with no run
    is left out.
    """
    rows = []
    for strategy, seeds in per_run.items():
        if not seeds:
            continue
        lengths = {seed: len(values) for seed, values in seeds.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(
                f"strategy {strategy!r}: its seeds answered different numbers of questions "
                f"({', '.join(f'seed {s}: {n}' for s, n in lengths.items())})"
            )
        per_seed = {
            int(s): float(_bools(v, f"{strategy} seed {s}").mean()) for s, v in seeds.items()
        }
        summary = seed_summary(list(per_seed.values()))
        n_questions = next(iter(lengths.values()))
        lo, hi = wilson_interval(summary.mean * n_questions, n_questions, level)
        rows.append(
            StrategyAccuracy(
                strategy,
                summary.n,
                n_questions,
                summary.mean,
                summary.sd,
                summary.min,
                summary.max,
                per_seed,
                lo,
                hi,
            )
        )
    return sorted(rows, key=lambda r: (-r.mean, r.strategy))


def metric_vs_accuracy(
    metric_scores: Mapping[str, float],
    lower_is_better: bool,
    accuracies: Mapping[str, float | Sequence[float]],
) -> MetricVsAccuracy:
    """The metric's pick, the best-trained strategy, regret, Spearman and Kendall.

    ``accuracies`` maps a strategy to its accuracy or to its per-seed accuracies (averaged).
    Only strategies with both a finite score and an accuracy count.
    """
    table = accuracy_table(accuracies)
    pick = top_pick(metric_scores, table, higher_is_better=not lower_is_better)
    points = [
        (s, float(metric_scores[s]), table[s]["mean"])
        for s in metric_scores
        if s in table and np.isfinite(float(metric_scores[s]))
    ]
    return MetricVsAccuracy(
        n_strategies=pick["n_strategies"],
        picks=pick["picks"],
        best_trained=pick["best"],
        top_pick_is_best=pick["top_pick_is_best"],
        pick_accuracy=pick["pick_accuracy"],
        best_accuracy=pick["oracle_accuracy"],
        regret=pick["regret"],
        spearman=pick["spearman"],
        spearman_p=pick["spearman_p"],
        kendall=pick["kendall"],
        kendall_p=pick["kendall_p"],
        points=points,
    )
