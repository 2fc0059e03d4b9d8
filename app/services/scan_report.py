"""The scan report: rankings, distributions, win rates and metric agreement.

Built once when a scan completes (stored with the scan), so result pages only read it.
Strategy names key everything; question keys are question ids as strings.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.metrics.registry import (
    aggregate_function,
    get_metric,
    ordered,
    primary,
    strategy_scores,
)
from app.models import Question, ScanValue, ScanVector, Strategy
from app.stats.agreement import metric_agreement
from app.stats.correctness import DEFAULT_MARGIN, correctness_gate
from app.stats.gated_ranking import rank_recommendable
from app.stats.ranking import rank_strategies, win_rate_matrix
from app.stats.samples import sample_means

Values = dict[str, dict[str, dict[str, float]]]  # metric -> strategy -> question key -> value
Vectors = dict[str, dict[str, dict[str, np.ndarray]]]  # the same, to a per-question vector


def load_values(session: Session, *, scan_id: int) -> tuple[Values, dict[str, dict[str, int]]]:
    """Per-question values of a scan, and per strategy the count of truncated inputs."""
    rows = session.execute(
        select(
            ScanValue.metric,
            Strategy.name,
            ScanValue.question_id,
            ScanValue.value,
            ScanValue.truncated,
        )
        .join(Strategy, Strategy.id == ScanValue.strategy_id)
        .where(ScanValue.scan_id == scan_id)
    ).all()
    values: Values = defaultdict(lambda: defaultdict(dict))
    truncated: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for metric, name, qid, value, trunc in rows:
        values[metric][name][str(qid)] = float("nan") if value is None else value
        if trunc:
            truncated[metric][name] += 1
    return values, truncated


def load_vectors(session: Session, *, scan_id: int) -> Vectors:
    """Per-question vectors of a scan (metrics with a strategy-level aggregate: GRACE)."""
    rows = session.execute(
        select(ScanVector.metric, Strategy.name, ScanVector.question_id, ScanVector.data)
        .join(Strategy, Strategy.id == ScanVector.strategy_id)
        .where(ScanVector.scan_id == scan_id)
    ).all()
    vectors: Vectors = defaultdict(lambda: defaultdict(dict))
    for metric, name, qid, data in rows:
        vectors[metric][name][str(qid)] = np.frombuffer(data, dtype="<f4")
    return vectors


def sample_scores(
    metric: str,
    values: dict[str, dict[str, float]],
    vectors: dict[str, dict[str, np.ndarray]],
    samples: list[list[str]],
) -> list[dict[str, float]]:
    """Per disjoint sample, each strategy's score: the mean of its values there, or for a
    metric with a strategy-level aggregate (GRACE) the aggregate of its vectors there."""
    function = aggregate_function(metric)
    if function is None:
        return sample_means(values, samples)
    out = []
    for keys in samples:
        scores = {s: float(function({k: v[k] for k in keys if k in v})) for s, v in vectors.items()}
        out.append({s: x for s, x in scores.items() if math.isfinite(x)})
    return out


def build_report(
    values: Values,
    *,
    truncated: dict[str, dict[str, int]],
    vectors: Vectors | None = None,
    seed: int = 0,
    correct_share: dict[str, dict[str, Any]] | None = None,
    correct_margin: float = DEFAULT_MARGIN,
) -> dict:
    """Everything the result pages show, computed once.

    ``vectors`` feed the strategy-level score of a metric with an aggregate (GRACE), which
    ranks its strategies in place of the mean. ``correct_share`` (the scan's
    ``{strategy: {"share", "n"}}``) feeds the correctness rule
    (app.stats.correctness): the familiarity metrics' recommendations skip the strategies it
    passes over, which stay ranked and marked.
    """
    t0 = time.perf_counter()
    gate = correctness_gate(correct_share, margin=correct_margin)
    metrics = ordered(values)
    scores = {m: strategy_scores(m, (vectors or {}).get(m, {})) or None for m in metrics}
    per_metric = {
        m: _metric_report(m, values[m], truncated.get(m, {}), seed, gate.passed_over, scores[m])
        for m in metrics
    }
    means = {
        m: {
            r["name"]: r["mean"]
            for r in per_metric[m]["ranking"]["strategies"]
            if r["mean"] is not None
        }
        for m in metrics
        if get_metric(m).agreement
    }
    first = primary(per_metric)
    return {
        "metrics": metrics,
        "labels": {m: get_metric(m).label for m in metrics},
        "primary": first,
        "recommendation": per_metric[first]["ranking"]["recommendation"] if first else None,
        "per_metric": per_metric,
        "agreement": metric_agreement(means) if len(means) > 1 else None,
        "correctness": gate.to_dict(),
        "flags": _flags(values, truncated),
        "build_s": round(time.perf_counter() - t0, 4),
    }


def _metric_report(
    metric: str,
    by_strategy: dict[str, dict[str, float]],
    truncated: dict[str, int],
    seed: int,
    passed_over: dict[str, str],
    scores: dict[str, float] | None = None,
) -> dict[str, Any]:
    from app.stats.distributions import distribution_payload

    info = get_metric(metric)
    lower = info.lower_is_better
    if info.role == "familiarity":
        ranking = rank_recommendable(
            by_strategy, passed_over=passed_over, lower_is_better=lower, seed=seed, scores=scores
        )
    else:  # descriptive metrics rank, they never recommend
        ranking = rank_strategies(
            by_strategy, lower_is_better=lower, seed=seed, scores=scores
        ).to_dict()
    order = list(ranking["order"])
    return {
        "label": info.label,
        "lower_is_better": lower,
        "log_scale": info.log_scale,
        "ranking": ranking,
        "win_rate": win_rate_matrix(by_strategy, order=order, lower_is_better=lower),
        "distributions": distribution_payload(
            by_strategy, order=order, log_bins=info.log_scale, seed=seed
        ),
        "truncated": dict(truncated),
    }


def _flags(values: Values, truncated: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Per strategy: how many responses each flagged metric flags (IFD above 1: the key
    ``ifd_above_1``), the first 50 of them, and the most truncated inputs of any metric."""
    out: dict[str, Any] = {}
    for metric in ordered(values):
        flag = get_metric(metric).flag
        if flag is None:
            continue
        by = {
            s: sorted(k for k, v in qs.items() if v > flag.threshold)
            for s, qs in values[metric].items()
        }
        out[f"{metric}_{flag.key}"] = {s: len(keys) for s, keys in by.items()}
        out[f"{metric}_{flag.key}_keys"] = {s: keys[:50] for s, keys in by.items()}
    trunc_total: dict[str, int] = defaultdict(int)
    for per_strategy in truncated.values():
        for s, n in per_strategy.items():
            trunc_total[s] = max(trunc_total[s], n)
    return {**out, "truncated": dict(trunc_total)}


def question_snippets(session: Session, *, keys: set[str], limit: int = 160) -> dict[str, str]:
    """Short question texts for chart tooltips (only the questions the charts name)."""
    ids = [int(k) for k in keys if k.isdigit()]
    if not ids:
        return {}
    rows = session.execute(select(Question.id, Question.text).where(Question.id.in_(ids))).all()
    return {str(qid): text[:limit] for qid, text in rows}


def current_report(
    session: Session, *, scan_id: int, report: dict[str, Any] | None, summary: dict[str, Any]
) -> dict | None:
    """The stored report; one built before the correctness rule existed is rebuilt with it.

    The rebuild reads the stored values and the scan's correct shares, so an old scan whose
    most familiar strategy is mostly wrong is not recommended either (nothing is written).
    """
    from app.config import get_settings

    if not report or "correctness" in report:
        return report
    values, truncated = load_values(session, scan_id=scan_id)
    return build_report(
        values,
        truncated=truncated,
        vectors=load_vectors(session, scan_id=scan_id),
        seed=int((summary.get("settings") or {}).get("seed", 0)),
        correct_share=summary.get("correct_share"),
        correct_margin=get_settings().recommend_correct_margin,
    )
