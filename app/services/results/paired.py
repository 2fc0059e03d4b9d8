"""Two strategies, one metric, over the questions both were scored on: computed on request.

Cheap (two strategies' values of one scan), so it is not stored with the report.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ScanValue, Strategy
from app.schemas.results import PairedPage, PairedPoints
from app.services.errors import BadInput
from app.services.projects import get_project_row, project_read
from app.services.results.page import finished_report, lower_is_better, pick_metric, pick_scale
from app.services.scan_report import question_snippets
from app.services.scans import scan_read
from app.stats.paired import align_pairs, compare_paired

MAX_POINTS = 1000
N_LARGEST = 10


def get_paired_page(
    session: Session,
    *,
    project_id: int,
    scan_id: int,
    metric: str | None = None,
    a: str | None = None,
    b: str | None = None,
    scale: str | None = None,
) -> PairedPage:
    """A versus B (default: the top two of the metric's ranking)."""
    scan, report = finished_report(session, project_id=project_id, scan_id=scan_id)
    chosen = pick_metric(report, metric)
    assert chosen is not None
    order = report.per_metric[chosen].order
    name_a, name_b = _pair(order, a, b)
    values = _values(session, scan_id=scan_id, metric=chosen, names=(name_a, name_b))
    lower = lower_is_better(report, chosen)
    seed = int(scan.spec.get("seed", 0) or 0)
    comparison = compare_paired(values[name_a], values[name_b], lower_is_better=lower, seed=seed)
    keys, va, vb, _ = align_pairs(values[name_a], values[name_b])
    points = _points(keys, va, vb, seed)
    largest = _largest(keys, va, vb)
    return PairedPage(
        project=project_read(session, get_project_row(session, project_id=project_id)),
        scan=scan_read(session, scan),
        metric=chosen,
        label=report.labels[chosen],
        labels=report.labels,
        lower_is_better=lower,
        scale=pick_scale(report, chosen, scale),
        strategies=order,
        a=name_a,
        b=name_b,
        comparison=comparison.to_dict(),
        points=points,
        largest_differences=largest,
        snippets=question_snippets(session, keys={*points.keys, *(r["key"] for r in largest)}),
    )


def _pair(order: list[str], a: str | None, b: str | None) -> tuple[str, str]:
    if len(order) < 2:
        raise BadInput("a paired comparison needs two strategies; this scan has fewer")
    name_a = a or (order[1] if b == order[0] else order[0])
    name_b = b or next(n for n in order if n != name_a)
    for name in (name_a, name_b):
        if name not in order:
            raise BadInput(f"no strategy named '{name}' in this scan ({', '.join(order[:8])})")
    if name_a == name_b:
        raise BadInput("choose two different strategies to compare")
    return name_a, name_b


def _values(
    session: Session, *, scan_id: int, metric: str, names: tuple[str, str]
) -> dict[str, dict[str, float]]:
    rows = session.execute(
        select(Strategy.name, ScanValue.question_id, ScanValue.value)
        .join(Strategy, Strategy.id == ScanValue.strategy_id)
        .where(ScanValue.scan_id == scan_id, ScanValue.metric == metric, Strategy.name.in_(names))
        .order_by(ScanValue.question_id)
    ).all()
    out: dict[str, dict[str, float]] = {n: {} for n in names}
    for name, qid, value in rows:
        out[name][str(qid)] = float("nan") if value is None else value
    return out


def _points(keys: list[str], a: np.ndarray, b: np.ndarray, seed: int) -> PairedPoints:
    """Every pair, or a seeded sample of MAX_POINTS of them (in question order)."""
    idx = np.arange(len(keys))
    if len(keys) > MAX_POINTS:
        idx = np.sort(np.random.default_rng(seed).choice(len(keys), MAX_POINTS, replace=False))
    return PairedPoints(
        keys=[keys[i] for i in idx],
        a=a[idx].tolist(),
        b=b[idx].tolist(),
        n_total=len(keys),
        sampled=len(idx) < len(keys),
    )


def _largest(keys: list[str], a: np.ndarray, b: np.ndarray) -> list[dict]:
    """The questions where the two strategies differ most (absolute difference)."""
    if not keys:
        return []
    d = a - b
    top = np.argsort(-np.abs(d), kind="stable")[:N_LARGEST]
    return [{"key": keys[i], "a": float(a[i]), "b": float(b[i]), "diff": float(d[i])} for i in top]
