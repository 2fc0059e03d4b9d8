"""Per-category view of a scan: heatmaps, the pick per category, the per-category mix."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.metrics import registry
from app.models import Question, Response, Strategy
from app.scans.report import ScanReport
from app.schemas.categories import CategoryNote, CategoryPage
from app.services.errors import BadInput
from app.services.exports import STREAM_BATCH, TrainingForm, training_record
from app.services.projects import get_project_row, project_read
from app.services.results.page import finished_report, lower_is_better, pick_metric
from app.services.scan_report import load_values
from app.services.scans import scan_read
from app.stats.categories import category_breakdown


def question_categories(session: Session, *, project_id: int) -> dict[str, str | None]:
    rows = session.execute(
        select(Question.id, Question.category).where(Question.project_id == project_id)
    ).all()
    return {str(qid): cat for qid, cat in rows}


def response_accuracy(
    session: Session, *, strategy_ids: dict[str, int], keys: set[str]
) -> dict[str, dict[str, float]] | None:
    """Per strategy and question: 1.0 / 0.0 where the response's correctness is known."""
    names = {v: k for k, v in strategy_ids.items()}
    out: dict[str, dict[str, float]] = {}
    rows = session.execute(
        select(Response.strategy_id, Response.question_id, Response.correct).where(
            Response.strategy_id.in_(list(names)), Response.correct.is_not(None)
        )
    )
    for sid, qid, correct in rows:
        if str(qid) in keys:
            out.setdefault(names[sid], {})[str(qid)] = 1.0 if correct else 0.0
    return out or None


def scan_breakdown(
    session: Session,
    *,
    project_id: int,
    scan_id: int,
    report: ScanReport,
    metric: str,
    seed: int = 0,
) -> dict[str, Any] | None:
    """The breakdown of ``metric`` (None when the scanned questions have < 2 categories)."""
    categories = question_categories(session, project_id=project_id)
    if len(set(categories.values()) - {None, ""}) < 2:
        return None  # before loading every value: most projects have no categories
    values, _ = load_values(session, scan_id=scan_id)
    by_strategy = values.get(metric) or {}
    keys = {k for v in by_strategy.values() for k in v}
    if len({categories.get(k) for k in keys if categories.get(k)}) < 2:
        return None
    ids = dict(
        session.execute(
            select(Strategy.name, Strategy.id).where(
                Strategy.project_id == project_id, Strategy.name.in_(list(by_strategy))
            )
        ).all()
    )
    pick = report.recommendation.get("top") if report.recommendation else None
    if metric != report.primary:
        pick = report.per_metric[metric].ranking.get("recommendation", {}).get("top")
    return category_breakdown(
        by_strategy,
        categories,
        lower_is_better=lower_is_better(report, metric),
        overall_pick=pick,
        accuracy=response_accuracy(session, strategy_ids=ids, keys=keys),
        seed=seed,
    )


def _metric(report: ScanReport, metric: str | None) -> str:
    chosen = pick_metric(report, metric)
    if chosen not in registry.familiarity(report.metrics):
        have = ", ".join(registry.familiarity(report.metrics))
        raise BadInput(f"the per-category view uses a familiarity metric of the scan ({have})")
    return chosen


def get_category_page(
    session: Session, *, project_id: int, scan_id: int, metric: str | None = None
) -> CategoryPage:
    scan, report = finished_report(session, project_id=project_id, scan_id=scan_id)
    chosen = _metric(report, metric)
    breakdown = scan_breakdown(
        session,
        project_id=project_id,
        scan_id=scan_id,
        report=report,
        metric=chosen,
        seed=int(scan.spec.get("seed", 0)),
    )
    return CategoryPage(
        project=project_read(session, get_project_row(session, project_id=project_id)),
        scan=scan_read(session, scan),
        metric=chosen,
        label=report.labels[chosen],
        metrics=registry.familiarity(report.metrics),
        lower_is_better=lower_is_better(report, chosen),
        breakdown=breakdown,
    )


def category_note(
    session: Session, *, project_id: int, scan_id: int, report: ScanReport | None, seed: int = 0
) -> CategoryNote | None:
    """For the result page: whether the primary pick loses clearly on some categories."""
    if report is None or report.primary is None:
        return None
    b = scan_breakdown(
        session,
        project_id=project_id,
        scan_id=scan_id,
        report=report,
        metric=report.primary,
        seed=seed,
    )
    if b is None:
        return None
    return CategoryNote(
        n_categories=len(b["categories"]), losses=b["losses"], note=b["note"], metric=report.primary
    )


def mix_records(
    session: Session,
    *,
    project_id: int,
    mix: dict[str, str],
    fallback: str | None,
    form: TrainingForm,
) -> Iterator[str]:
    """Every question of the project answered by its category's strategy (``fallback`` for
    categories the breakdown did not see), as JSONL training records in question order."""
    ids = dict(
        session.execute(
            select(Strategy.name, Strategy.id).where(Strategy.project_id == project_id)
        ).all()
    )
    want = {c: ids[s] for c, s in mix.items() if s in ids}
    default = ids.get(fallback) if fallback else None
    rows = session.execute(
        select(Question.category, Response.strategy_id, Question.text, Response.text)
        .join(Response, Response.question_id == Question.id)
        .where(Question.project_id == project_id)
        .order_by(Question.position)
        .execution_options(yield_per=STREAM_BATCH)
    )
    for category, sid, question, response in rows:
        if sid == want.get(category or "(none)", default):
            yield json.dumps(training_record(question, response, form), ensure_ascii=False) + "\n"
