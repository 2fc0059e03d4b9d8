"""Imported metrics beside the scan's own on the result page: rankings and agreement."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.metrics import registry
from app.scans.report import ScanReport
from app.schemas.metrics import ImportedRanking, ImportedSection
from app.services.metrics.store import MetricValues, project_metric_values, source_text
from app.stats.agreement import metric_agreement
from app.stats.ranking import rank_strategies
from app.stats.samples import picks_from_means


def imported_metrics(
    session: Session, *, project_id: int, strategies: list[str]
) -> list[MetricValues]:
    """The project's imported metrics restricted to the given strategies (those with any)."""
    out = []
    for mv in project_metric_values(session, project_id=project_id):
        mv.values = {s: v for s, v in mv.values.items() if s in strategies}
        mv.by_sample = [{s: v for s, v in b.items() if s in strategies} for b in mv.by_sample]
        if mv.values:
            out.append(mv)
    return out


def imported_ranking(mv: MetricValues, *, seed: int = 0) -> ImportedRanking:
    r = mv.row
    ranking = rank_strategies(mv.values, lower_is_better=r.lower_is_better, seed=seed).to_dict()
    samples = None
    if r.n_samples > 1:
        samples = picks_from_means(mv.sample_means(), lower_is_better=r.lower_is_better)
    return ImportedRanking(
        name=r.name,
        label=f"{r.name} (imported)",
        lower_is_better=r.lower_is_better,
        per=r.per,
        source=source_text(r.source_filename, r.created_at),  # type: ignore[arg-type]
        source_filename=r.source_filename,
        created_at=r.created_at,
        ranking=ranking,
        samples=samples,
    )


def imported_section(
    session: Session, *, project_id: int, report: ScanReport | None
) -> ImportedSection | None:
    """Rankings of the imported metrics over the scan's strategies, and how every metric
    (the scan's familiarity metrics and the imported ones) agrees with every other."""
    if report is None or not report.metrics:
        return None
    strategies = report.per_metric[report.metrics[0]].order
    found = imported_metrics(session, project_id=project_id, strategies=strategies)
    if not found:
        return None
    means = {
        m: {r["name"]: r["mean"] for r in report.per_metric[m].strategies if r["mean"] is not None}
        for m in report.metrics
        if m in registry.familiarity(report.metrics)
    }
    means |= {mv.row.name: mv.means() for mv in found}
    higher = {mv.row.name for mv in found if not mv.row.lower_is_better}
    agreement = metric_agreement(means, higher_is_better=higher) if len(means) > 1 else None
    return ImportedSection(metrics=[imported_ranking(mv) for mv in found], agreement=agreement)


def imported_scores(
    section: ImportedSection | None,
) -> tuple[dict[str, dict[str, float]], set[str]]:
    """Strategy means per imported metric and the names where higher is better (for the
    accuracy section's top picks)."""
    if section is None:
        return {}, set()
    scores = {
        m.name: {r["name"]: r["mean"] for r in m.ranking["strategies"] if r["mean"] is not None}
        for m in section.metrics
    }
    return scores, {m.name for m in section.metrics if not m.lower_is_better}
