"""The scan report: rankings, distributions, win rates and metric agreement.

Built once when a scan completes (stored with the scan), so result pages only read it.
Strategy names key everything; question keys are question ids as strings.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Question, ScanValue, Strategy
from app.stats.agreement import metric_agreement
from app.stats.correctness import DEFAULT_MARGIN, correctness_gate
from app.stats.gated_ranking import rank_recommendable
from app.stats.ranking import rank_strategies, win_rate_matrix

FAMILIARITY = ("sppl", "ppl", "ifd")  # primary first: the research found SPPL picks best
DESCRIPTIVE = ("length", "logprob")
LOWER_IS_BETTER = {"ppl": True, "sppl": True, "ifd": True, "length": True, "logprob": False}
LOG_SCALE = {"ppl", "sppl"}
LABELS = {
    "ppl": "PPL", "sppl": "SPPL", "ifd": "IFD", "length": "Length (tokens)",
    "logprob": "Mean log-probability",
}  # fmt: skip

Values = dict[str, dict[str, dict[str, float]]]  # metric -> strategy -> question key -> value


def load_values(session: Session, *, scan_id: int) -> tuple[Values, dict[str, dict[str, int]]]:
    """Per-question values of a scan, and per strategy the count of truncated inputs."""
    rows = session.execute(
        select(ScanValue.metric, Strategy.name, ScanValue.question_id, ScanValue.value,
               ScanValue.truncated)
        .join(Strategy, Strategy.id == ScanValue.strategy_id)
        .where(ScanValue.scan_id == scan_id)
    ).all()  # fmt: skip
    values: Values = defaultdict(lambda: defaultdict(dict))
    truncated: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for metric, name, qid, value, trunc in rows:
        values[metric][name][str(qid)] = float("nan") if value is None else value
        if trunc:
            truncated[metric][name] += 1
    return values, truncated


def build_report(
    values: Values,
    *,
    truncated: dict[str, dict[str, int]],
    seed: int = 0,
    correct_share: dict[str, dict[str, Any]] | None = None,
    correct_margin: float = DEFAULT_MARGIN,
) -> dict:
    """Everything the result pages show, computed once.

    ``correct_share`` (the scan's ``{strategy: {"share", "n"}}``) feeds the correctness rule
    (app.stats.correctness): the familiarity metrics' recommendations skip the strategies it
    passes over, which stay ranked and marked.
    """
    t0 = time.perf_counter()
    gate = correctness_gate(correct_share, margin=correct_margin)
    metrics = [m for m in (*FAMILIARITY, *DESCRIPTIVE) if m in values]
    per_metric = {
        m: _metric_report(m, values[m], truncated.get(m, {}), seed, gate.passed_over)
        for m in metrics
    }
    means = {
        m: {r["name"]: r["mean"] for r in per_metric[m]["ranking"]["strategies"]
            if r["mean"] is not None}
        for m in metrics if m in FAMILIARITY or m == "length"
    }  # fmt: skip
    primary = next((m for m in FAMILIARITY if m in per_metric), None)
    return {
        "metrics": metrics,
        "labels": {m: LABELS[m] for m in metrics},
        "primary": primary,
        "recommendation": per_metric[primary]["ranking"]["recommendation"] if primary else None,
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
) -> dict[str, Any]:
    from app.stats.distributions import distribution_payload

    lower = LOWER_IS_BETTER[metric]
    if metric in FAMILIARITY:
        ranking = rank_recommendable(
            by_strategy, passed_over=passed_over, lower_is_better=lower, seed=seed
        )
    else:  # descriptive metrics rank, they never recommend
        ranking = rank_strategies(by_strategy, lower_is_better=lower, seed=seed).to_dict()
    order = list(ranking["order"])
    return {
        "label": LABELS[metric],
        "lower_is_better": lower,
        "log_scale": metric in LOG_SCALE,
        "ranking": ranking,
        "win_rate": win_rate_matrix(by_strategy, order=order, lower_is_better=lower),
        "distributions": distribution_payload(
            by_strategy, order=order, log_bins=metric in LOG_SCALE, seed=seed
        ),
        "truncated": dict(truncated),
    }


def _flags(values: Values, truncated: dict[str, dict[str, int]]) -> dict[str, Any]:
    ifd = values.get("ifd", {})
    above = {s: sorted(k for k, v in qs.items() if v > 1.0) for s, qs in ifd.items()}
    trunc_total: dict[str, int] = defaultdict(int)
    for per_strategy in truncated.values():
        for s, n in per_strategy.items():
            trunc_total[s] = max(trunc_total[s], n)
    return {
        "ifd_above_1": {s: len(keys) for s, keys in above.items()},
        "ifd_above_1_keys": {s: keys[:50] for s, keys in above.items()},
        "truncated": dict(trunc_total),
    }


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
        values, truncated=truncated, seed=int((summary.get("settings") or {}).get("seed", 0)),
        correct_share=summary.get("correct_share"),
        correct_margin=get_settings().recommend_correct_margin,
    )  # fmt: skip
