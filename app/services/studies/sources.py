"""What a study reads from one project: each metric's per-strategy scores and the accuracies.

This is the seam between projects and studies. ``project_metric_scores`` gives, per metric
name, a :class:`MetricScores`: the strategy-level score the metric ranks by (the mean over
the scan's sample, as on the result page), its direction and where it came from. Built-in
metrics come from the project's latest finished scan (its ``scan_aggregates`` rows);
imported metrics (issue 13a) join here with ``source="imported"``; both come through the
one read model, ``app.metrics.table.MetricTable``. ``samples``, when set,
holds one ``{strategy: score}`` per disjoint question sample: a study then lets each sample
make its own pick and averages over them.

``project_accuracies`` gives, per strategy, the accuracy (0-1) of every fine-tuning seed that
produced one, in seed order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.metrics import registry
from app.metrics.table import MetricColumn
from app.models import Accuracy, Scan, Strategy
from app.services.metrics.table import imported_columns, scan_columns
from app.services.results.samples import scan_samples
from app.services.scan_report import current_report, load_values, load_vectors, sample_scores
from app.services.selectors import mix_label, mix_ranking
from app.stats.recommendation import MIX, RECOMMENDATION, report_ranking


@dataclass(frozen=True)
class MetricScores:
    """One metric's strategy-level scores in one project."""

    name: str  # a registry metric, "recommendation", "per_question_mix" or an imported name
    lower_is_better: bool
    per_strategy: dict[str, float]  # strategy name -> score (finite values only)
    source: str  # "scan" | "imported"
    detail: str  # human-readable provenance, e.g. "scan 12 (model, 50 questions)"
    samples: list[dict[str, float]] | None = None  # K disjoint samples, each {strategy: score}
    label: str = ""  # what pages show (a metric's: ``MetricColumn.label``)

    @classmethod
    def of(cls, column: MetricColumn) -> MetricScores:
        """A metric of the project's ``MetricTable``, scan's or imported, as a selector."""
        return cls(
            name=column.name,
            lower_is_better=column.lower_is_better,
            per_strategy=column.aggregates,
            source=column.kind,
            detail=column.detail,
            samples=column.samples,
            label=column.label,
        )


def latest_finished_scan(session: Session, *, project_id: int) -> Scan | None:
    """The project's newest scan with stored results."""
    return session.scalars(
        select(Scan)
        .where(Scan.project_id == project_id, Scan.finished_at.is_not(None))
        .order_by(Scan.id.desc())
        .limit(1)
    ).first()


def project_metric_scores(session: Session, project_id: int) -> dict[str, MetricScores]:
    """Per metric name, the scores a study ranks strategies by (empty without results)."""
    imported = imported_columns(session, project_id=project_id)
    scan = latest_finished_scan(session, project_id=project_id)
    if scan is None:
        return {c.name: MetricScores.of(c) for c in imported}
    detail = _scan_detail(scan)
    columns = scan_columns(session, scan_id=scan.id, detail=detail)
    per_sample = _scan_sample_scores(session, scan, [c.name for c in columns])
    columns = [replace(c, samples=per_sample.get(c.name)) for c in columns]
    return (
        {c.name: MetricScores.of(c) for c in columns}
        | _recommendation_scores(session, scan, detail)
        | _mix_scores(session, project_id)
        | {c.name: MetricScores.of(c) for c in imported}
    )


def _mix_scores(session: Session, project_id: int) -> dict[str, MetricScores]:
    """The project's newest trained per-question mix as a selector of its own, scored by
    rank (app.services.selectors.mix_ranking: the mix first, then its metric's order)."""
    mixes = session.execute(  # one query per project: most have no mix at all
        select(Strategy.name, Strategy.mix)
        .where(
            Strategy.project_id == project_id,
            Strategy.mix.is_not(None),
            exists().where(Accuracy.strategy_id == Strategy.id),  # trained
        )
        .order_by(Strategy.id.desc())
    ).all()
    if not mixes:
        return {}
    name, record = mixes[0]
    detail = f"{mix_label(record)} '{name}' of scan {record.get('scan_id')}, then its order"
    return {
        MIX: MetricScores(
            name=MIX,
            lower_is_better=True,
            per_strategy=mix_ranking(session, name, record),
            source="scan",
            detail=detail,
            label="Per-question mix",
        )
    }


def _recommendation_scores(session: Session, scan: Scan, detail: str) -> dict[str, MetricScores]:
    """The scan's recommendation (its primary metric with the correctness rule) as a
    selector of its own, scored by rank (``app.stats.recommendation.product_ranking``), so a
    study shows how the product's own pick trained beside each metric's."""
    report = current_report(
        session, scan_id=scan.id, report=scan.report, summary=scan.summary or {}
    )
    ranking = report_ranking(report or {})
    if not ranking:
        return {}
    primary = registry.label_of(str((report or {}).get("primary")))
    return {
        RECOMMENDATION: MetricScores(
            name=RECOMMENDATION,
            lower_is_better=True,
            per_strategy=ranking,
            source="scan",
            detail=f"{detail}: {primary} with the correctness rule",
            label="Recommendation",
        )
    }


def _scan_sample_scores(
    session: Session, scan: Scan, metrics: list[str]
) -> dict[str, list[dict[str, float]]]:
    """Per metric, one {strategy: mean} per disjoint sample of the scan (issue 13a); empty
    for a scan of one sample."""
    samples = scan_samples(scan)
    if not samples:
        return {}
    values, _ = load_values(session, scan_id=scan.id)
    vectors = load_vectors(session, scan_id=scan.id)
    return {
        m: sample_scores(m, values[m], vectors.get(m, {}), samples) for m in metrics if m in values
    }


def _scan_detail(scan: Scan) -> str:
    sample = (scan.spec or {}).get("sample")
    label = f" “{scan.label}”" if scan.label else ""
    size = f", {sample} questions" if sample else ""
    return f"scan {scan.id}{label} ({scan.model_name}{size})"


def project_accuracies(session: Session, project_id: int) -> dict[str, list[float]]:
    """Per strategy name, the accuracy (0-1) of each seed that ran, in seed order."""
    rows = session.execute(
        select(Strategy.name, Accuracy.accuracy)
        .join(Strategy, Strategy.id == Accuracy.strategy_id)
        .where(Accuracy.project_id == project_id)
        .order_by(Strategy.id, Accuracy.seed)
    ).all()
    out: dict[str, list[float]] = defaultdict(list)
    for name, acc in rows:
        out[name].append(float(acc))
    return dict(out)
