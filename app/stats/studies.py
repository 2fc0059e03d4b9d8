"""Studies: how well each metric picks strategies across many projects (no database).

One project is one target model and one task. For every metric the study reports the mean,
over projects, of the accuracy of the strategy the metric picks, the oracle (best accuracy),
a random pick (mean accuracy), and the mean rank correlation between the metric's ranking
and the accuracy ranking, plain and weighted by the spread of the strategies' accuracies;
then the same over the projects whose spread exceeds each threshold.

The rules (``RULES`` is shown on the study page, word for word):
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import fmean, stdev

RULES: tuple[tuple[str, str], ...] = (
    (
        "Accuracy scale",
        "Accuracies are shown in points (0-100). A project whose values are "
        "all at most 1 is read as 0-1 shares and multiplied by 100; one with a value above 1 is "
        "already in points.",
    ),
    (
        "Seeds",
        "A strategy's accuracy is the mean over the seeds that ran (every stored seed "
        "value; seeds that never produced a result are simply absent).",
    ),
    (
        "Compared strategies",
        "In each project a metric is compared over the strategies that "
        "have both an accuracy and a score of that metric; the oracle, the random pick and the "
        "spread of that row use the same strategies. Strategies with an accuracy but no score "
        "are listed as missing.",
    ),
    (
        "Ties in a pick",
        "Scores equal to 12 significant digits are tied. When several "
        "strategies tie for the metric's best score, the pick's accuracy is the mean accuracy "
        "of the tied strategies (the expected result of breaking the tie at random).",
    ),
    (
        "Rank correlation",
        "Spearman's rho is the primary coefficient (the research reports "
        "it); Kendall's tau-b is shown beside it. Tied values get their average rank (tau-b "
        "corrects for ties). Each metric is oriented by its direction, so a positive "
        "coefficient means the metric ranks strategies as accuracy does.",
    ),
    (
        "Weights",
        "The weighted mean weighs each project by the sample standard deviation "
        "(ddof 1) of its strategies' accuracies, in points: projects where the choice matters "
        "count more.",
    ),
    (
        "Spread thresholds",
        "The restricted rows keep the projects whose spread is strictly "
        "above the threshold (in points).",
    ),
    (
        "One strategy",
        "A project where a metric can compare fewer than 2 strategies has "
        "nothing to choose: it is left out of every number of that metric and listed.",
    ),
    (
        "Zero spread",
        "Where every compared strategy has the same accuracy (or the metric gives "
        "every strategy the same score) the correlation is undefined: the project still counts "
        "in the accuracy means (the pick equals the oracle there) but not in the correlation "
        "means (its weight would be 0 anyway).",
    ),
    (
        "No accuracy",
        "A project without any accuracy yet is listed and left out of every "
        "number until accuracies are attached (uploaded, or written by a validation).",
    ),
    (
        "Missing metric",
        "A project without any score of a metric is left out of that metric's "
        "numbers and listed as missing; the other metrics still use it.",
    ),
    (
        "Samples",
        "Where a metric has K disjoint question samples, each sample makes its own "
        "pick and its own correlation; the project's value is their mean, and the page shows "
        "how often each strategy was the pick.",
    ),
)
__doc__ = (__doc__ or "") + "\n".join(f"- {name}: {text}" for name, text in RULES)

DEFAULT_THRESHOLDS = (2.0, 4.0)
DIGITS = 12  # significant digits below which two scores are the same score


@dataclass(frozen=True)
class MetricInput:
    """One metric's scores in one project: one ``{strategy: score}`` per question sample."""

    lower_is_better: bool
    samples: Sequence[Mapping[str, float]]


@dataclass(frozen=True)
class ProjectInput:
    project_id: int
    name: str
    accuracies: Mapping[str, Sequence[float]]  # strategy -> accuracy per seed that ran
    metrics: Mapping[str, MetricInput]


@dataclass(frozen=True)
class ProjectRow:
    """The numbers of one metric in one project: the table behind every summary number."""

    project_id: int
    project: str
    metric: str
    status: str  # ok | missing | one_strategy | no_accuracy
    n_strategies: int = 0
    missing_strategies: list[str] = field(default_factory=list)
    n_samples: int = 0
    picks: list[list[str]] = field(default_factory=list)  # per sample, the tied picks
    pick_counts: dict[str, float] = field(default_factory=dict)  # strategy -> samples won
    pick_accuracy: float | None = None
    oracle: float | None = None
    random: float | None = None
    regret: float | None = None
    best: list[str] = field(default_factory=list)
    spread: float | None = None  # sample std (ddof 1) of the strategies' accuracies, points
    spearman: float | None = None
    kendall: float | None = None


@dataclass(frozen=True)
class Subset:
    """One metric's summary over the projects whose spread exceeds ``threshold`` (None: all)."""

    threshold: float | None
    n_projects: int
    pick_accuracy: float | None
    oracle: float | None
    random: float | None
    n_correlated: int
    spearman: float | None
    kendall: float | None
    weighted_spearman: float | None
    weighted_kendall: float | None


@dataclass(frozen=True)
class MetricSummary:
    metric: str
    subsets: list[Subset]
    missing: list[str]  # projects without this metric
    one_strategy: list[str]  # projects where it compares fewer than 2 strategies
    no_accuracy: list[str]  # projects without any accuracy yet


@dataclass(frozen=True)
class StudyResult:
    thresholds: list[float]
    metrics: list[MetricSummary]
    rows: list[ProjectRow]


def mean_accuracies(accuracies: Mapping[str, Sequence[float]]) -> dict[str, float]:
    """Per strategy, the mean accuracy in points over its finite seed values."""
    finite = {s: [float(v) for v in vals if _finite(v)] for s, vals in accuracies.items()}
    finite = {s: v for s, v in finite.items() if v}
    percent = any(v > 1 for vals in finite.values() for v in vals)
    scale = 1.0 if percent else 100.0
    return {s: scale * float(fmean(v)) for s, v in finite.items()}


def spread(values: Sequence[float]) -> float | None:
    """Sample standard deviation (ddof 1) of accuracies; None with fewer than 2."""
    return stdev(values) if len(values) > 1 else None


def _finite(x: object) -> bool:
    try:
        return math.isfinite(float(x))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _snap(x: float) -> float:
    return float(f"{x:.{DIGITS}g}")


def _tied_best(scores: Mapping[str, float]) -> list[str]:
    best = min(scores.values())
    return sorted(s for s, v in scores.items() if v == best)


def average_ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties at their mean rank (scipy.stats.rankdata's "average")."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def _pearson(a: list[float], b: list[float]) -> float:
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    num = sum((x - ma) * (y - mb) for x, y in zip(a, b, strict=True))
    den = math.sqrt(sum((x - ma) ** 2 for x in a) * sum((y - mb) ** 2 for y in b))
    return num / den


def _kendall_tau_b(x: Sequence[float], y: Sequence[float]) -> float:
    concordant = discordant = ties_x = ties_y = 0
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            dx, dy = x[i] - x[j], y[i] - y[j]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                ties_x += 1
            elif dy == 0:
                ties_y += 1
            elif (dx > 0) == (dy > 0):
                concordant += 1
            else:
                discordant += 1
    pairs_x = concordant + discordant + ties_y  # pairs not tied in x
    pairs_y = concordant + discordant + ties_x
    return (concordant - discordant) / math.sqrt(pairs_x * pairs_y)


def correlation(x: Sequence[float], y: Sequence[float]) -> tuple[float | None, float | None]:
    """Spearman rho (Pearson on average ranks) and Kendall tau-b; None where a side is
    constant. Written out rather than calling scipy.stats.spearmanr/kendalltau: their
    per-call overhead (about 1 ms for the pair) made a 300-cell study page take 0.3 s for a
    handful of strategies each; tests/stats/test_studies.py checks both against scipy."""
    if len(x) < 2 or len(set(x)) < 2 or len(set(y)) < 2:
        return None, None
    rho = _pearson(average_ranks(x), average_ranks(y))
    return max(-1.0, min(1.0, rho)), max(-1.0, min(1.0, _kendall_tau_b(x, y)))


def project_row(project: ProjectInput, metric: str, acc: dict[str, float]) -> ProjectRow:
    """One metric in one project (``acc``: mean accuracies in points)."""
    base = {"project_id": project.project_id, "project": project.name, "metric": metric}
    data = project.metrics.get(metric)
    samples = [
        {s: _snap(float(v)) for s, v in sample.items() if _finite(v)}
        for sample in (data.samples if data else [])
    ]
    samples = [s for s in samples if s]
    if not acc:
        return ProjectRow(**base, status="no_accuracy")
    if data is None or not samples:
        return ProjectRow(**base, status="missing")
    names = sorted(s for s in acc if all(s in sample for sample in samples))
    missing = sorted(set(acc) - set(names))
    if len(names) < 2:
        return ProjectRow(
            **base,
            status="one_strategy",
            n_strategies=len(names),
            missing_strategies=missing,
            n_samples=len(samples),
        )
    sign = 1.0 if data.lower_is_better else -1.0
    values = [acc[s] for s in names]
    oracle = max(values)
    picks, pick_accs, rhos, taus = [], [], [], []
    counts: dict[str, float] = {}
    for sample in samples:
        oriented = {s: sign * sample[s] for s in names}
        tied = _tied_best(oriented)
        picks.append(tied)
        pick_accs.append(float(fmean([acc[s] for s in tied])))
        for s in tied:
            counts[s] = counts.get(s, 0.0) + 1 / len(tied)
        rho, tau = correlation([oriented[s] for s in names], [-_snap(a) for a in values])
        rhos += [rho] if rho is not None else []
        taus += [tau] if tau is not None else []
    pick_accuracy = float(fmean(pick_accs))
    return ProjectRow(
        **base,
        status="ok",
        n_strategies=len(names),
        missing_strategies=missing,
        n_samples=len(samples),
        picks=picks,
        pick_counts=counts,
        pick_accuracy=pick_accuracy,
        oracle=oracle,
        random=float(fmean(values)),
        regret=max(0.0, oracle - pick_accuracy),
        best=sorted(s for s in names if _snap(acc[s]) == _snap(oracle)),
        spread=spread(values),
        spearman=float(fmean(rhos)) if rhos else None,
        kendall=float(fmean(taus)) if taus else None,
    )


def _mean(values: list[float]) -> float | None:
    return float(fmean(values)) if values else None


def _weighted(pairs: list[tuple[float, float]]) -> float | None:
    """Weighted mean of (value, weight) pairs; None when the weights sum to 0."""
    total = sum(w for _, w in pairs)
    return sum(v * w for v, w in pairs) / total if total > 0 else None


def subset(rows: list[ProjectRow], threshold: float | None) -> Subset:
    """Summary of a metric's usable rows whose spread is above ``threshold``."""
    kept = [r for r in rows if r.status == "ok"]
    if threshold is not None:
        kept = [r for r in kept if r.spread is not None and r.spread > threshold]
    rho = [(r.spearman, r.spread or 0.0) for r in kept if r.spearman is not None]
    tau = [(r.kendall, r.spread or 0.0) for r in kept if r.kendall is not None]
    return Subset(
        threshold=threshold,
        n_projects=len(kept),
        pick_accuracy=_mean([r.pick_accuracy for r in kept if r.pick_accuracy is not None]),
        oracle=_mean([r.oracle for r in kept if r.oracle is not None]),
        random=_mean([r.random for r in kept if r.random is not None]),
        n_correlated=len(rho),
        spearman=_mean([v for v, _ in rho]),
        kendall=_mean([v for v, _ in tau]),
        weighted_spearman=_weighted(rho),
        weighted_kendall=_weighted(tau),
    )


def compute_study(
    projects: Sequence[ProjectInput],
    *,
    metrics: Sequence[str] | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
) -> StudyResult:
    """Every number of a study. ``metrics`` defaults to every metric some project has,
    in first-seen order; ``thresholds`` are spreads in points."""
    if metrics is None:
        metrics = list(dict.fromkeys(m for p in projects for m in p.metrics))
    cuts = sorted({float(t) for t in thresholds})
    accs = {p.project_id: mean_accuracies(p.accuracies) for p in projects}
    rows = [project_row(p, m, accs[p.project_id]) for m in metrics for p in projects]
    summaries = []
    for m in metrics:
        mine = [r for r in rows if r.metric == m]
        summaries.append(
            MetricSummary(
                metric=m,
                subsets=[subset(mine, t) for t in (None, *cuts)],
                missing=[r.project for r in mine if r.status == "missing"],
                one_strategy=[r.project for r in mine if r.status == "one_strategy"],
                no_accuracy=[r.project for r in mine if r.status == "no_accuracy"],
            )
        )
    return StudyResult(thresholds=cuts, metrics=summaries, rows=rows)
