"""Load scan storage and imported storage into the one read model, ``MetricTable``.

Built-in metrics come from a scan: its ``scan_aggregates`` rows (what studies and the
validation's agreement table rank by) or its stored report (what the result page and its
exports already hold, so no query is added there). Imported metrics come from the
project's ``imported_metrics`` tables. Either way a column has the same shape
(``app.metrics.table.MetricColumn``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.metrics import registry
from app.metrics.table import IMPORTED, SCAN, MetricColumn, MetricTable, imported_info
from app.models import ScanAggregate, Strategy
from app.scans.report import ScanReport
from app.services.metrics.store import MetricValues, projects_metric_values, source_text
from app.services.scan_report import load_values


def _info(name: str, lower_is_better: bool = True) -> registry.Metric:
    """The registered metric, or a stand-in for a name the registry no longer holds."""
    return registry.info(name) or registry.Metric(
        name, name, lower_is_better, "descriptive", "", compute=""
    )


def imported_columns(session: Session, *, project_id: int) -> list[MetricColumn]:
    """The project's imported metrics, by name: strategy means (per sample when the metric
    holds K > 1 disjoint samples) and, for a per-question metric, its values."""
    return projects_imported_columns(session, project_ids=[project_id])[project_id]


def projects_imported_columns(
    session: Session, *, project_ids: Iterable[int]
) -> dict[int, list[MetricColumn]]:
    """``imported_columns`` of several projects at once (a study's: a few queries in all)."""
    by_project = projects_metric_values(session, project_ids=project_ids)
    return {pid: [_imported_column(mv) for mv in mvs] for pid, mvs in by_project.items()}


def _imported_column(mv: MetricValues) -> MetricColumn:
    r = mv.row
    text = source_text(r.source_filename, r.created_at)
    return MetricColumn(
        info=imported_info(r.name, lower_is_better=r.lower_is_better, source=text),
        source=f"{IMPORTED}: {r.source_filename}",
        aggregates=mv.means(),
        values=mv.values,
        samples=mv.sample_means() if r.n_samples > 1 else None,
        per=r.per,
        detail=text,
        imported_at=r.created_at,
    )


def report_columns(report: ScanReport | None) -> list[MetricColumn]:
    """A scan's metrics from its stored report: each strategy's mean, in report order."""
    if report is None:
        return []
    return [
        MetricColumn(
            info=_info(m, report.per_metric[m].lower_is_better),
            source=SCAN,
            aggregates={
                r["name"]: r["mean"]
                for r in report.per_metric[m].strategies
                if r["mean"] is not None
            },
        )
        for m in report.metrics
    ]


def scan_columns(
    session: Session,
    *,
    scan_id: int,
    detail: str = "",
    with_values: bool = False,
) -> list[MetricColumn]:
    """A scan's metrics from its ``scan_aggregates`` rows (strategy means, finite only),
    in the order they were stored; with their ``scan_values`` when asked (studies and
    agreement tables only rank, so they skip that read)."""
    columns = scans_columns(session, details={scan_id: detail})[scan_id]
    if not with_values:
        return columns
    values = load_values(session, scan_id=scan_id)[0]
    return [
        replace(c, values={s: dict(v) for s, v in values.get(c.name, {}).items()}) for c in columns
    ]


def scans_columns(session: Session, *, details: Mapping[int, str]) -> dict[int, list[MetricColumn]]:
    """``scan_columns`` (without values) of several scans in one query: per scan id of
    ``details``, its columns, each carrying the scan's detail text."""
    rows = session.execute(
        select(ScanAggregate.scan_id, ScanAggregate.metric, Strategy.name, ScanAggregate.mean)
        .join(Strategy, Strategy.id == ScanAggregate.strategy_id)
        .where(ScanAggregate.scan_id.in_(list(details)), ScanAggregate.mean.is_not(None))
        .order_by(ScanAggregate.id)
    ).all()
    by_scan: dict[int, dict[str, dict[str, float]]] = {sid: {} for sid in details}
    for scan_id, metric, name, mean in rows:
        by_scan[scan_id].setdefault(metric, {})[name] = float(mean)
    return {
        sid: [
            MetricColumn(info=_info(m), source=SCAN, aggregates=a, detail=details[sid])
            for m, a in by_metric.items()
        ]
        for sid, by_metric in by_scan.items()
    }


def result_table(session: Session, *, project_id: int, report: ScanReport | None) -> MetricTable:
    """What a scan's result page and exports read: the report's metrics, then the project's
    imported ones over the scan's strategies (those with any score there)."""
    if report is None or not report.metrics:
        return MetricTable()
    strategies = report.per_metric[report.metrics[0]].order
    imported = MetricTable.of(imported_columns(session, project_id=project_id))
    return MetricTable.of(report_columns(report), imported.restricted(strategies))


def agreement_table(session: Session, *, scan_id: int | None, project_id: int) -> MetricTable:
    """What a validation's agreement table ranks: the compared scan's registered
    familiarity metrics in display order, then the project's imported metrics."""
    if scan_id is None:
        return MetricTable()
    scan = MetricTable.of(scan_columns(session, scan_id=scan_id))
    ordered = registry.familiarity([c.name for c in scan if registry.is_metric(c.name)])
    return MetricTable.of(
        [scan[m] for m in ordered], imported_columns(session, project_id=project_id)
    )
