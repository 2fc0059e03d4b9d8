"""Imported metrics beside the scan's own on the result page: rankings and agreement.

Both kinds arrive in one ``MetricTable`` (``app.services.metrics.table.result_table``);
this module only ranks the imported columns and relates every familiarity column.
"""

from __future__ import annotations

from app.metrics.table import MetricColumn, MetricTable
from app.schemas.metrics import ImportedRanking, ImportedSection
from app.stats.agreement import metric_agreement
from app.stats.ranking import rank_strategies
from app.stats.samples import picks_from_means


def imported_ranking(column: MetricColumn, *, seed: int = 0) -> ImportedRanking:
    lower = column.lower_is_better
    ranking = rank_strategies(column.values, lower_is_better=lower, seed=seed).to_dict()
    samples = None
    if column.samples:
        samples = picks_from_means(column.samples, lower_is_better=lower)
    return ImportedRanking(
        name=column.name,
        label=column.label,
        lower_is_better=lower,
        per=column.per,  # type: ignore[arg-type]
        source=column.detail,
        source_filename=column.file or "",
        created_at=column.imported_at,  # type: ignore[arg-type]
        ranking=ranking,
        samples=samples,
    )


def imported_section(table: MetricTable) -> ImportedSection | None:
    """Rankings of the table's imported metrics, and how every familiarity metric (the
    scan's and the imported ones) agrees with every other; None without imported ones."""
    imported = table.where(imported=True)
    if not imported:
        return None
    ranked = table.where(familiarity=True)
    means = ranked.aggregates()
    agreement = (
        metric_agreement(means, higher_is_better=ranked.higher_is_better())
        if len(means) > 1
        else None
    )
    return ImportedSection(
        metrics=[imported_ranking(c) for c in imported],
        agreement=agreement,
        labels=ranked.labels(),
    )
