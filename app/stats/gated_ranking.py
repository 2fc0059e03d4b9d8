"""A ranking whose recommendation skips the strategies the correctness rule passed over.

Every strategy keeps its rank by mean (the page shows the passed-over ones where they rank,
marked), but the recommendation and the paired tests are those of the ranking of the
recommendable strategies alone: the pick is the best-ranked recommendable strategy, and
"indistinguishable from the top" and "p vs top" are measured against that pick, with the
Holm family made of the other recommendable strategies. Passed-over rows carry their reason
and no test.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.stats.cleaning import ValuesByStrategy
from app.stats.ranking import rank_strategies
from app.stats.recommendation import join_names

PAIRED_KEYS = ("vs_top", "indistinguishable_from_top", "is_top")


def rank_recommendable(
    values_by_strategy: ValuesByStrategy,
    *,
    passed_over: Mapping[str, str],
    lower_is_better: bool = True,
    alpha: float = 0.05,
    seed: int = 0,
    scores: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """``rank_strategies(...).to_dict()`` with rows marked ``recommendable``/``passed_over``
    (``scores``: a strategy-level metric's, ranking in place of the means)."""
    full = rank_strategies(
        values_by_strategy, lower_is_better=lower_is_better, alpha=alpha, seed=seed, scores=scores
    ).to_dict()
    passed = {n: r for n, r in passed_over.items() if n in values_by_strategy}
    if not passed:
        full["strategies"] = [
            r | {"recommendable": True, "passed_over": None} for r in full["strategies"]
        ]
        full["passed_over"] = {}
        return full
    kept = {n: v for n, v in values_by_strategy.items() if n not in passed}
    sub = (
        rank_strategies(
            kept, lower_is_better=lower_is_better, alpha=alpha, seed=seed, scores=scores
        ).to_dict()
        if kept
        else None
    )
    sub_rows = {r["name"]: r for r in sub["strategies"]} if sub else {}
    full["strategies"] = [_merged(r, sub_rows.get(r["name"]), passed) for r in full["strategies"]]
    full["recommendation"] = _recommendation(full, sub, passed)
    if sub:
        full["method"] = sub["method"] + ", among the recommendable strategies"
    full["passed_over"] = dict(passed)
    return full


def _merged(
    row: dict[str, Any], sub_row: dict[str, Any] | None, passed: Mapping[str, str]
) -> dict[str, Any]:
    if row["name"] in passed:
        return row | {
            "vs_top": None,
            "indistinguishable_from_top": None,
            "is_top": False,
            "recommendable": False,
            "passed_over": passed[row["name"]],
        }
    paired = {k: sub_row[k] for k in PAIRED_KEYS} if sub_row else {}
    return row | paired | {"recommendable": True, "passed_over": None}


def _recommendation(
    full: dict[str, Any], sub: dict[str, Any] | None, passed: Mapping[str, str]
) -> dict[str, Any]:
    """The recommendable strategies' recommendation, its caveat naming who was passed over."""
    if sub is None or sub["recommendation"]["top"] is None:
        return {
            "top": None,
            "evidence": "none",
            "tied": [],
            "caveat": (
                f"No strategy can be recommended: {join_names(sorted(passed))} "
                f"{'was' if len(passed) == 1 else 'were'} passed over by the correctness rule."
            ),
        }
    rec = dict(sub["recommendation"])
    top = rec["top"]
    order = list(full["order"])
    above = [n for n in order[: order.index(top)] if n in passed]
    if above:
        rec["caveat"] = (
            f"{join_names(above)} {'ranks' if len(above) == 1 else 'rank'} above {top} but "
            f"{'was' if len(above) == 1 else 'were'} passed over: too few correct answers. "
            + rec["caveat"]
        )
    rec["passed_over_above"] = above
    return rec
