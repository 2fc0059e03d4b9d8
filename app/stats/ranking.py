"""Ranking of strategies by mean metric value, with "indistinguishable from the top" marks.

Each strategy is ranked by its mean (1 = best; equal means share the smaller rank). Every
other strategy is compared with the top one by a two-sided Wilcoxon signed-rank test over
the questions both have (:mod:`app.stats.paired`), and the p-values of these comparisons are
Holm-corrected as one family (Holm controls the family-wise error rate without assuming
independence, and is uniformly more powerful than Bonferroni). A strategy is
*distinguishable* from the top only when its adjusted p-value is below ``alpha`` AND the
signed ranks favour the top; a comparison with too few pairs is not a test, is left out of
the family and counts as indistinguishable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from app.stats.cleaning import ValuesByStrategy, finite_items, num, order_by_score, value_matrix
from app.stats.paired import SignedRankResult, signed_rank_test
from app.stats.recommendation import Recommendation, recommend
from app.stats.summary import strategy_summary, summarize


@dataclass(frozen=True)
class RankedStrategy:
    """One row of the ranking table."""

    name: str
    rank: int | None  # None when the strategy has no finite value
    summary: dict[str, float]  # summarize(): n, mean, median, std, ci_low, ci_high
    n_dropped: int
    vs_top: SignedRankResult | None = None  # None for the top itself and empty strategies
    p_holm: float | None = None
    top_is_better: bool | None = None  # direction of the signed ranks versus the top
    indistinguishable_from_top: bool | None = None

    def to_dict(self) -> dict:
        """Flat JSON-safe row; ``vs_top`` nested."""
        row = {"name": self.name, "rank": self.rank, "n_dropped": self.n_dropped}
        row.update({k: num(v) if isinstance(v, float) else v for k, v in self.summary.items()})
        row["vs_top"] = None
        if self.vs_top is not None:
            row["vs_top"] = self.vs_top.to_dict() | {
                "p_holm": num(self.p_holm),
                "top_is_better": self.top_is_better,
            }
        row["indistinguishable_from_top"] = self.indistinguishable_from_top
        return row


@dataclass(frozen=True)
class Ranking:
    """Result of :func:`rank_strategies`."""

    strategies: tuple[RankedStrategy, ...]
    recommendation: Recommendation
    method: str
    alpha: float
    lower_is_better: bool
    order: tuple[str, ...] = field(default=())  # names by rank, empty strategies last

    def to_dict(self) -> dict:
        """JSON-safe dict: strategies (rows), recommendation, method, alpha, order."""
        return {
            "strategies": [
                s.to_dict() | {"is_top": s.name == self.recommendation.top} for s in self.strategies
            ],
            "recommendation": self.recommendation.to_dict(),
            "method": self.method,
            "alpha": self.alpha,
            "lower_is_better": self.lower_is_better,
            "order": list(self.order),
        }


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values, in the input order (capped at 1, monotone)."""
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    out = np.empty(m)
    out[order] = stepped
    return out.tolist()


def _ranks(names: Sequence[str], means: dict[str, float]) -> dict[str, int]:
    """Competition ranks (1, 2, 2, 4) of the already ordered names with a finite mean."""
    ranks: dict[str, int] = {}
    for i, name in enumerate(names):
        tie = i > 0 and means[name] == means[names[i - 1]]
        ranks[name] = ranks[names[i - 1]] if tie else i + 1
    return ranks


def _method_text(n_pairs: Sequence[int], alpha: float) -> str:
    """The method sentence for the page."""
    if not n_pairs:
        return "No paired comparison: fewer than two strategies have values"
    lo, hi = min(n_pairs), max(n_pairs)
    over = f"{lo}" if lo == hi else f"{lo}-{hi}"
    return (
        f"Wilcoxon signed-rank, paired over {over} shared questions, Holm-corrected, "
        f"alpha {alpha:g}"
    )


def _compare_with_top(
    mat: np.ndarray, lower_is_better: bool, alpha: float
) -> list[tuple[SignedRankResult, float | None, bool | None, bool]]:
    """For rows 1.. of ``mat`` versus row 0: (test, Holm p, top_is_better, indistinguishable)."""
    tests = []
    for i in range(1, mat.shape[0]):
        ok = np.isfinite(mat[i]) & np.isfinite(mat[0])
        tests.append(signed_rank_test(mat[i, ok] - mat[0, ok]))
    testable = [i for i, t in enumerate(tests) if t.testable]
    adjusted = dict(zip(testable, holm_adjust([tests[i].p_value for i in testable]), strict=True))
    out = []
    for i, t in enumerate(tests):
        p = adjusted.get(i)
        # differences are other - top: r_plus > r_minus means the other has larger values
        top_better = None if t.effect_size is None else (t.effect_size > 0) == lower_is_better
        distinct = p is not None and p < alpha and bool(top_better)
        out.append((t, p, top_better, not distinct))
    return out


def _rows(
    values_by_strategy: ValuesByStrategy,
    order: Sequence[str],
    summaries: dict[str, dict[str, float]],
    n_dropped: dict[str, int],
    lower_is_better: bool,
    alpha: float,
) -> list[RankedStrategy]:
    """Ranking rows in ``order``: the top, the strategies compared with it, empty ones."""
    scored = [n for n in order if summaries[n]["n"] > 0]
    ranks = _ranks(scored, {n: summaries[n]["mean"] for n in scored})
    _, mat = value_matrix(values_by_strategy, scored)
    versus = dict(zip(scored[1:], _compare_with_top(mat, lower_is_better, alpha), strict=True))
    rows = []
    for n in order:
        base = (n, ranks.get(n), summaries[n], n_dropped[n])
        rows.append(RankedStrategy(*base, *versus[n]) if n in versus else RankedStrategy(*base))
    return rows


def rank_strategies(
    values_by_strategy: ValuesByStrategy,
    *,
    lower_is_better: bool = True,
    alpha: float = 0.05,
    seed: int = 0,
    scores: Mapping[str, float] | None = None,
) -> Ranking:
    """Rank strategies by mean per-question value and mark those tied with the top.

    ``scores`` (a metric's strategy-level aggregate, ``app.metrics.registry``) rank instead
    of the means: see :func:`rank_by_score`.

    ``values_by_strategy`` maps strategy name -> {question key -> value}; NaN/inf values are
    dropped (counted in ``n_dropped``) before :func:`app.stats.summary.summarize` (bootstrap
    interval seeded with ``seed``). Strategies without any finite value get rank None and
    come last. The top strategy's ``vs_top`` and ``indistinguishable_from_top`` are None.
    """
    if scores is not None:
        return rank_by_score(values_by_strategy, scores, lower_is_better=lower_is_better)
    clean = {n: finite_items(v) for n, v in values_by_strategy.items()}
    summaries = {n: summarize(arr, seed=seed) for n, (_, arr, _) in clean.items()}
    means = {n: s["mean"] for n, s in summaries.items()}
    order = order_by_score(means, lower_is_better=lower_is_better)
    dropped = {n: c[2] for n, c in clean.items()}
    rows = _rows(values_by_strategy, order, summaries, dropped, lower_is_better, alpha)
    method = _method_text([r.vs_top.n_pairs for r in rows if r.vs_top is not None], alpha)
    return Ranking(
        tuple(rows), recommend(rows, alpha), method, alpha, lower_is_better, tuple(order)
    )


def rank_by_score(
    values_by_strategy: ValuesByStrategy,
    scores: Mapping[str, float],
    *,
    lower_is_better: bool = True,
    alpha: float = 0.05,
) -> Ranking:
    """Rank by one score per strategy (its ``mean``); there is no per-question paired test
    of a strategy-level score, so no strategy is marked tied with the top or not."""
    clean = {n: finite_items(v) for n, v in values_by_strategy.items()}
    nan = float("nan")
    summaries = {n: strategy_summary(scores.get(n, nan), len(c[1])) for n, c in clean.items()}
    means = {n: s["mean"] for n, s in summaries.items()}
    order = order_by_score(means, lower_is_better=lower_is_better)
    scored = [n for n in order if math.isfinite(means[n])]
    ranks = _ranks(scored, means)
    rows = [RankedStrategy(n, ranks.get(n), summaries[n], clean[n][2]) for n in order]
    top = scored[0] if scored else None
    caveat = (
        f"{top} has the best score; a strategy-level score has no per-question paired test, "
        "so how far apart the strategies are cannot be tested here: confirm with a "
        "validation fine-tune when the choice matters."
        if top
        else "No strategy has a score yet."
    )
    recommendation = Recommendation(top, "none", (), caveat)
    method = "Ranked by the metric's strategy-level score (no per-question paired test)"
    return Ranking(tuple(rows), recommendation, method, alpha, lower_is_better, tuple(order))


def win_rate_matrix(
    values_by_strategy: ValuesByStrategy,
    *,
    order: Sequence[str] | None = None,
    lower_is_better: bool = True,
) -> dict:
    """Win rate of each row strategy over each column strategy on their shared questions.

    ``order`` defaults to the ranking order (mean, best first). Returns
    ``{"labels": [...], "win_rate": [[float | None]], "n_pairs": [[int]]}``; the diagonal
    and pairs without a shared question are None. Ties count half.
    """
    if order is None:
        means = {n: _mean(values_by_strategy[n]) for n in values_by_strategy}
        order = order_by_score(means, lower_is_better=lower_is_better)
    labels = list(order)
    _, mat = value_matrix(values_by_strategy, labels)
    fin = np.isfinite(mat)
    better = np.less if lower_is_better else np.greater
    rates: list[list[float | None]] = []
    pairs: list[list[int]] = []
    for i in range(len(labels)):
        n = (fin[i] & fin).sum(axis=1)  # NaN compares False, so wins and ties need no mask
        score = better(mat[i], mat).sum(axis=1) + (mat[i] == mat).sum(axis=1) / 2
        rates.append(
            [
                float(s / k) if k and j != i else None
                for j, (s, k) in enumerate(zip(score, n, strict=True))
            ]
        )
        pairs.append(n.astype(int).tolist())
    return {"labels": labels, "win_rate": rates, "n_pairs": pairs}


def _mean(values: dict[str, float]) -> float:
    """Mean of the finite values (NaN when none)."""
    arr = finite_items(values)[1]
    return float(arr.mean()) if arr.size else float("nan")
