"""The scan result page: the stored report, plus what the page needs around it.

Everything heavy was computed once when the scan finished (app.scans.store); this
module only reads it, picks the metric and scale the URL asks for, names the questions the
charts show, and adds the project's measured accuracies.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.metrics import registry
from app.models import Scan, Strategy
from app.scans.report import ScanReport
from app.schemas.categories import CategoryNote
from app.schemas.results import ResultPage, ScanRef
from app.services.errors import BadInput
from app.services.metrics.table import result_table
from app.services.results.accuracy import accuracy_section
from app.services.results.imported import imported_section
from app.services.results.samples import sample_section
from app.services.results.verdict_drift import verdict_drift
from app.services.scan_report import current_report, question_snippets
from app.services.scans import get_scan_page, get_scan_row

# 20 colours that stay apart from each other on white (Trubetskoy's list, pale ones last).
PALETTE = (
    "#4363d8",
    "#e6194b",
    "#3cb44b",
    "#f58231",
    "#911eb4",
    "#42d4f4",
    "#f032e6",
    "#9a6324",
    "#469990",
    "#800000",
    "#808000",
    "#000075",
    "#bfef45",
    "#e0b000",
    "#a9a9a9",
    "#dcbeff",
    "#fabed4",
    "#ffd8b1",
    "#aaffc3",
    "#fffac8",
)
HEAVY_SUMMARY_KEYS = ("exemplars", "exemplar_sources")  # per question: see the drill-down


def get_result_page(
    session: Session,
    *,
    project_id: int,
    scan_id: int,
    metric: str | None = None,
    scale: str | None = None,
) -> ResultPage:
    """The result page of a scan; ``metric`` and ``scale`` come from the URL."""
    base = get_scan_page(session, project_id=project_id, scan_id=scan_id)
    summary = base.summary or {}
    # get_scan_page read the row fresh; reading it again would parse its report again
    scan = session.get(Scan, scan_id)
    assert scan is not None
    report = stored_report(session, scan)
    chosen = pick_metric(report, metric)
    everyone = strategy_ids(session, project_id=project_id, ids=None)
    scanned = set(base.scan.spec.get("strategy_ids") or everyone.values())
    ids = {name: sid for name, sid in everyone.items() if sid in scanned}
    table = result_table(session, project_id=project_id, report=report)
    return ResultPage(
        **{k: getattr(base, k) for k in ("project", "scan", "metrics", "aggregates", "warnings")},
        summary={k: v for k, v in summary.items() if k not in HEAVY_SUMMARY_KEYS} or None,
        report=report,
        metric=chosen,
        scale=pick_scale(report, chosen, scale),
        colors=strategy_colors(everyone),  # project_colors, from the strategies read above
        strategy_ids=ids,
        snippets=question_snippets(session, keys=report.charted_keys()) if report else {},
        accuracy=accuracy_section(
            session,
            project_id=project_id,
            report=report,
            extra=table.where(imported=True),
            scan=scan,
        ),
        other_scans=finished_scans(session, project_id=project_id, exclude=scan_id),
        imported=imported_section(table),
        samples=sample_section(session, scan=scan, report=report),
        categories=_category_note(session, project_id, scan_id, report, scan.spec),
        source=(scan.summary or {}).get("imported"),
        verdicts_changed=verdict_drift(session, scan=scan),
    )


def _category_note(
    session: Session,
    project_id: int,
    scan_id: int,
    report: ScanReport | None,
    spec: dict[str, Any],
) -> CategoryNote | None:
    from app.services.results.categories import category_note  # it imports this module

    return category_note(
        session,
        project_id=project_id,
        scan_id=scan_id,
        report=report,
        seed=int(spec.get("seed", 0)),
    )


def stored_report(session: Session, scan: Scan) -> ScanReport | None:
    """The scan's report, typed; None until its results are stored. A report stored before
    the correctness rule existed is rebuilt with it (nothing is written)."""
    report = current_report(
        session, scan_id=scan.id, report=scan.report, summary=scan.summary or {}
    )
    return ScanReport.model_validate(report) if report else None


def pick_metric(report: ScanReport | None, metric: str | None) -> str | None:
    """The asked metric when the report has it, else the primary one."""
    if not report:
        return None
    if metric is None:
        return report.primary or (report.metrics[0] if report.metrics else None)
    if metric not in report.metrics:
        have = ", ".join(report.metrics)
        raise BadInput(f"this scan has no {metric} values (it has: {have})")
    return metric


def pick_scale(report: ScanReport | None, metric: str | None, scale: str | None) -> str:
    """Log for perplexities unless asked otherwise; linear where a log axis cannot work."""
    info = registry.get_metric(metric) if metric and registry.is_metric(metric) else None
    if not report or metric is None or info is None or not info.positive:
        return "linear"
    if scale in ("log", "linear"):
        return scale
    return "log" if report.per_metric[metric].log_scale else "linear"


def strategy_ids(session: Session, *, project_id: int, ids: list[int] | None) -> dict[str, int]:
    """Name -> id of the scanned strategies (all of the project's when the spec has none)."""
    query = select(Strategy.name, Strategy.id).where(Strategy.project_id == project_id)
    if ids:
        query = query.where(Strategy.id.in_(ids))
    return dict(session.execute(query.order_by(Strategy.id)).all())


def project_colors(session: Session, *, project_id: int) -> dict[str, str]:
    """A colour per strategy by its place among all the project's strategies, so a scan of
    some of them, another scan and a validation all draw a strategy in the same colour."""
    return strategy_colors(strategy_ids(session, project_id=project_id, ids=None))


def strategy_colors(ids: dict[str, int]) -> dict[str, str]:
    """A stable colour per strategy: by strategy id, so every page of a scan agrees."""
    ordered = sorted(ids, key=lambda name: ids[name])
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(ordered)}


def finished_scans(
    session: Session, *, project_id: int, exclude: int | None = None
) -> list[ScanRef]:
    """The project's succeeded scans, newest first (without loading their summaries)."""
    rows = session.execute(
        select(Scan.id, Scan.model_name, Scan.created_at, Scan.spec)
        .where(Scan.project_id == project_id, Scan.finished_at.is_not(None))
        .order_by(Scan.id.desc())
    ).all()
    return [scan_ref(*row) for row in rows if row[0] != exclude]


def scan_ref(scan_id: int, model_name: str, created_at: Any, spec: dict[str, Any]) -> ScanRef:
    return ScanRef(
        id=scan_id,
        model_name=model_name,
        created_at=created_at,
        metrics=list(spec.get("metrics", [])),
        sample=spec.get("sample"),
    )


def finished_report(session: Session, *, project_id: int, scan_id: int) -> tuple[Scan, ScanReport]:
    """The scan row and its stored report; BadInput while the scan has no results."""
    scan = get_scan_row(session, project_id=project_id, scan_id=scan_id)
    report = stored_report(session, scan)
    if report is None:
        status = get_scan_page(session, project_id=project_id, scan_id=scan_id).scan.status
        raise BadInput(f"scan {scan_id} has no results yet (status: {status})")
    return scan, report


def lower_is_better(report: ScanReport, metric: str) -> bool:
    data = report.per_metric.get(metric)
    return data.lower_is_better if data else registry.lower_is_better(metric)
