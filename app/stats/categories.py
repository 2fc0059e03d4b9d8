"""Per-category breakdown of a ranking: does one overall pick hide per-category losses?

The research on rule-based SFT data (arXiv 2411.14121) found one construction rule gaining 5
points on one subject and losing 6 on another. Here, per category of questions:

- a category x strategy heatmap of the metric's mean (and of accuracy where per-question
  accuracies exist: the responses' correctness, or a validation's per-question results;
  any ``strategy -> question -> 0..1`` mapping);
- the category's ranking (``app.stats.ranking.rank_strategies``: Wilcoxon signed-rank tests
  against the category's top, Holm-corrected within the category), and its *pick* only where
  the paired test separates the top from every other strategy (evidence "strong");
- the *overall pick loses clearly* on a category when the category has a clear pick other
  than the overall pick, and the overall pick is significantly worse than it there; the
  accuracy gap (category best minus the overall pick's) is reported beside it.

Pure: values in, JSON-safe dicts out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from app.stats.cleaning import ValuesByStrategy, num
from app.stats.ranking import rank_strategies

UNCATEGORIZED = "(none)"


def group_keys(categories: Mapping[str, str | None], keys: Sequence[str]) -> dict[str, list[str]]:
    """Category -> question keys (in ``keys`` order); questions without one go to (none)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        groups[categories.get(key) or UNCATEGORIZED].append(key)
    return dict(sorted(groups.items()))


def _mean(values: Mapping[str, float], keys: Sequence[str]) -> tuple[float | None, int]:
    arr = np.asarray([values[k] for k in keys if k in values], dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    return (float(arr.mean()), int(arr.size)) if arr.size else (None, 0)


def heatmap(
    values: ValuesByStrategy, groups: Mapping[str, Sequence[str]], strategies: Sequence[str]
) -> dict[str, Any]:
    """{"rows": categories, "cols": strategies, "mean": [[...]], "n": [[...]]}."""
    means, counts = [], []
    for keys in groups.values():
        cells = [_mean(values.get(s, {}), keys) for s in strategies]
        means.append([num(m) for m, _ in cells])
        counts.append([n for _, n in cells])
    return {"rows": list(groups), "cols": list(strategies), "mean": means, "n": counts}


def _category_row(
    name: str,
    keys: Sequence[str],
    values: ValuesByStrategy,
    *,
    overall_pick: str | None,
    lower_is_better: bool,
    alpha: float,
    seed: int,
    accuracy: ValuesByStrategy | None,
) -> dict[str, Any]:
    subset = {s: {k: v[k] for k in keys if k in v} for s, v in values.items()}
    ranking = rank_strategies(subset, lower_is_better=lower_is_better, alpha=alpha, seed=seed)
    rec = ranking.recommendation
    pick = rec.top if rec.evidence == "strong" else None
    rows = {r.name: r for r in ranking.strategies}
    overall = rows.get(overall_pick) if overall_pick else None
    overall_worse = bool(
        pick
        and overall is not None
        and pick != overall_pick
        and overall.indistinguishable_from_top is False
    )
    acc_gap = _accuracy_gap(accuracy, keys, overall_pick) if accuracy else None
    return {
        "category": name,
        "n_questions": len(keys),
        "top": rec.top,
        "evidence": rec.evidence,
        "tied": list(rec.tied),
        "pick": pick,
        "caveat": rec.caveat,
        "overall_pick": overall_pick,
        "overall_rank": overall.rank if overall else None,
        "overall_p_holm": num(overall.p_holm) if overall else None,
        "overall_loses": overall_worse,
        "accuracy_best": acc_gap["best"] if acc_gap else None,
        "accuracy_gap": acc_gap["gap"] if acc_gap else None,
        "ranking": ranking.to_dict(),
    }


def _accuracy_gap(
    accuracy: ValuesByStrategy, keys: Sequence[str], overall_pick: str | None
) -> dict[str, Any] | None:
    means = {s: _mean(v, keys)[0] for s, v in accuracy.items()}
    means = {s: m for s, m in means.items() if m is not None}
    if not means:
        return None
    best = max(means, key=lambda s: (means[s], s))
    mine = means.get(overall_pick) if overall_pick else None
    return {"best": best, "gap": num(means[best] - mine) if mine is not None else None}


def category_breakdown(
    values: ValuesByStrategy,
    categories: Mapping[str, str | None],
    *,
    lower_is_better: bool = True,
    overall_pick: str | None = None,
    accuracy: ValuesByStrategy | None = None,
    alpha: float = 0.05,
    seed: int = 0,
) -> dict[str, Any]:
    """The per-category view of one metric (see the module docstring).

    ``values``: strategy -> question key -> metric value; ``categories``: question key ->
    category; ``accuracy``: optional strategy -> question key -> 0..1 (per question).
    ``overall_pick``: the pick over all questions (default: the overall ranking's top).
    Returns heatmaps, one row per category, the categories the overall pick loses clearly,
    and ``mix``: each category's strategy for a per-category training file (its clear pick,
    else the overall pick).
    """
    keys = list(dict.fromkeys(k for v in values.values() for k in v))
    groups = group_keys(categories, keys)
    overall = rank_strategies(values, lower_is_better=lower_is_better, alpha=alpha, seed=seed)
    pick = overall_pick or overall.recommendation.top
    order = list(overall.order)
    rows = [
        _category_row(
            name,
            ks,
            values,
            overall_pick=pick,
            lower_is_better=lower_is_better,
            alpha=alpha,
            seed=seed,
            accuracy=accuracy,
        )
        for name, ks in groups.items()
    ]
    losses = [r["category"] for r in rows if r["overall_loses"]]
    return {
        "overall_pick": pick,
        "strategies": order,
        "categories": list(groups),
        "metric_heatmap": heatmap(values, groups, order),
        "accuracy_heatmap": heatmap(accuracy, groups, order) if accuracy else None,
        "rows": rows,
        "losses": losses,
        "note": loss_note(pick, [r for r in rows if r["overall_loses"]]),
        "mix": {r["category"]: r["pick"] or pick for r in rows},
    }


def loss_note(pick: str | None, losing: Sequence[Mapping[str, Any]]) -> str | None:
    """The sentence the recommendation adds when the overall pick loses on some categories."""
    if not pick or not losing:
        return None
    parts = []
    for r in losing:
        gap = r.get("accuracy_gap")
        extra = f", {100 * gap:.0f} points less correct" if gap and gap > 0 else ""
        parts.append(f"{r['category']} ({r['pick']} is significantly better{extra})")
    return (
        f"{pick} is the overall pick but loses clearly on "
        f"{len(losing)} {'category' if len(losing) == 1 else 'categories'}: "
        + "; ".join(parts)
        + ". Consider the per-category mix."
    )
