"""Per-example metric values from scored items, and per-strategy aggregates.

The compute functions named by the metric registry (``app.metrics.registry``): each takes
one ``Example`` (what the scan scored for one strategy's response to one question) and
returns its value row. Per example (DESIGN.md "Metrics"; lower is better for the first
three):
- ``ppl``  = exp(mean NLL of the response after the question in the chat template)
- ``sppl`` = exp(mean NLL of the response after the SPPL prompt)
- ``ifd``  = mean NLL(response | question) / mean NLL(response alone): a ratio of LOSSES (not
  of perplexities); values above 1 mean the question does not help and are flagged.
- ``logprob`` = mean token log-probability of the response after the question (PPL prompt)
- ``length``  = response length in tokens (tokenised alone, no special tokens)
A value is NaN (JSON null) when there was nothing to score; aggregates skip NaN values and
report how many were skipped.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from app.metrics.registry import get_metric, strategy_scores
from app.stats.summary import strategy_summary, summarize
from workers.scoring.items import ScoreResult

Row = dict[str, Any]


@dataclass(frozen=True)
class Example:
    """What a scan has for one strategy's response to one question."""

    key: str  # the question key
    text: str  # the response
    length: int  # the response's tokens, tokenised alone
    scores: Mapping[str, ScoreResult] = field(default_factory=dict)  # by need: "ppl_prompt"...
    computed: Mapping[str, Any] = field(default_factory=dict)  # other needs: "gradients"...


def ifd_value(conditional: ScoreResult, alone: ScoreResult) -> float:
    """mean NLL(response | question) / mean NLL(response alone); NaN when undefined."""
    num, den = conditional.mean_nll, alone.mean_nll
    if math.isnan(num) or math.isnan(den) or den <= 0:
        return math.nan
    return num / den


def value_row(key: str, value: float, result: ScoreResult, **flags: Any) -> Row:
    """One per-question entry of a metric."""
    return {
        "question_key": key,
        "value": value,
        "n_tokens": result.n_tokens,
        "truncated": result.truncated,
        "empty": result.empty,
        **flags,
    }


def ppl(ex: Example) -> Row:
    scored = ex.scores["ppl_prompt"]
    return value_row(ex.key, scored.ppl, scored)


def sppl(ex: Example) -> Row:
    scored = ex.scores["sppl_prompt"]
    return value_row(ex.key, scored.ppl, scored)


def logprob(ex: Example) -> Row:
    scored = ex.scores["ppl_prompt"]
    return value_row(ex.key, scored.mean_logprob, scored)


def ifd(ex: Example) -> Row:
    conditional, alone = ex.scores["ppl_prompt"], ex.scores["alone"]
    value = ifd_value(conditional, alone)
    return value_row(
        ex.key, value, conditional, above_1=bool(value > 1), alone_n_tokens=alone.n_tokens
    )


def length(ex: Example) -> Row:
    return {"question_key": ex.key, "value": float(ex.length), "n_tokens": ex.length}


@cache
def compute_function(name: str) -> Callable[[Example], Row]:
    """The registered metric's compute function (its dotted path, imported once)."""
    module, _, function = get_metric(name).compute.partition(":")
    return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]


def compute(name: str, example: Example) -> Row:
    return compute_function(name)(example)


def example_rows(
    key: str,
    *,
    ppl: ScoreResult | None = None,
    sppl: ScoreResult | None = None,
    alone: ScoreResult | None = None,
    length: int | None = None,
) -> dict[str, Row]:
    """Every built-in metric one (strategy, question) has the scores for."""
    scores = {"ppl_prompt": ppl, "sppl_prompt": sppl, "alone": alone}
    example = Example(key, "", length or 0, {k: v for k, v in scores.items() if v is not None})
    wanted = ["ppl", "logprob", "sppl", "ifd"] + (["length"] if length is not None else [])
    return {m: compute(m, example) for m in wanted if computable(m, example.scores)}


def computable(
    name: str, scores: Mapping[str, ScoreResult], computed: Mapping[str, Any] | None = None
) -> bool:
    """Whether an example's scores (and other computed needs) cover what the metric needs."""
    have = {*scores, *(computed or {})}
    return all(n in have for n in get_metric(name).needs if n in SCORED_NEEDS or n in PER_ITEM)


SCORED_NEEDS = ("ppl_prompt", "sppl_prompt", "alone")
PER_ITEM = ("gradients",)  # needs computed per response outside the scored prompts


def aggregate(rows: Sequence[Mapping[str, Any]], metric: str, *, seed: int) -> dict[str, Any]:
    """summarize() over the finite values plus counts of skipped / truncated / flagged; a
    metric with a strategy-level aggregate gets its score instead (``strategy_summary``)."""
    values = [r["value"] for r in rows if r["value"] is not None and math.isfinite(r["value"])]
    vectors = {r["question_key"]: r.get("vector") for r in rows if r.get("vector") is not None}
    scores = strategy_scores(metric, {"_": vectors})
    if scores:
        out: dict[str, Any] = strategy_summary(scores["_"], len(vectors))
    else:
        out = dict(summarize(values, seed=seed))
    out["n_missing"] = len(rows) - len(values)
    out["n_truncated"] = sum(1 for r in rows if r.get("truncated"))
    flag = get_metric(metric).flag
    if flag is not None:
        out[f"n_{flag.key}"] = sum(1 for r in rows if r.get(flag.key))
    return out


def rank_strategies(
    means: Mapping[str, float], *, lower_is_better: bool = True
) -> dict[str, int | None]:
    """Rank 1 = the best mean (lowest, unless higher is better); NaN means get no rank."""
    sign = 1.0 if lower_is_better else -1.0
    finite = sorted((sign * m, s) for s, m in means.items() if m is not None and math.isfinite(m))
    ranks: dict[str, int | None] = {s: None for s in means}
    for position, (_, strategy) in enumerate(finite, start=1):
        ranks[strategy] = position
    return ranks
