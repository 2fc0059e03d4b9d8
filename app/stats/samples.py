"""Repeated samples: K disjoint question samples, each making its own pick.

The research scored three disjoint 50-question subsets; how often each strategy is the pick
across them says how stable the pick is. Ties at the top of a sample split its vote
equally among the tied strategies (so the counts add up to the number of samples).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from app.stats.cleaning import ValuesByStrategy, num

TIE_ATOL = 1e-12


def sample_means(values: ValuesByStrategy, samples: Sequence[Sequence[str]]) -> list[dict]:
    """Per sample, each strategy's mean over the sample's questions (finite values only)."""
    out = []
    for keys in samples:
        means = {}
        for strategy, by_key in values.items():
            got = [by_key[k] for k in keys if k in by_key and math.isfinite(by_key[k])]
            if got:
                means[strategy] = sum(got) / len(got)
        out.append(means)
    return out


def picks_from_means(
    means: Sequence[Mapping[str, float]], *, lower_is_better: bool = True
) -> dict[str, Any]:
    """{"n_samples", "picks": [[tied best names] per sample], "means", "votes", "share"}."""
    picks: list[list[str]] = []
    votes: dict[str, float] = {}
    for sample in means:
        if not sample:
            picks.append([])
            continue
        best = (min if lower_is_better else max)(sample.values())
        tied = sorted(s for s, v in sample.items() if abs(v - best) <= TIE_ATOL)
        picks.append(tied)
        for s in tied:
            votes[s] = votes.get(s, 0.0) + 1 / len(tied)
    n = len(means)
    ordered = dict(sorted(votes.items(), key=lambda kv: (-kv[1], kv[0])))
    return {
        "n_samples": n,
        "picks": picks,
        "means": [{s: num(v) for s, v in m.items()} for m in means],
        "votes": ordered,
        "share": {s: v / n for s, v in ordered.items()} if n else {},
    }


def sample_picks(
    values: ValuesByStrategy, samples: Sequence[Sequence[str]], *, lower_is_better: bool = True
) -> dict[str, Any]:
    """How often each strategy is the pick across the samples (per-question values)."""
    return picks_from_means(sample_means(values, samples), lower_is_better=lower_is_better)
