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
from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from app.metrics import registry
from app.metrics.table import MetricColumn
from app.models import Accuracy, Scan, Strategy
from app.services.metrics.table import projects_imported_columns, scans_columns
from app.services.results.samples import scan_samples
from app.services.scan_report import current_report, load_values, load_vectors, sample_scores
from app.services.selectors import mix_label, mix_rankings
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


def latest_finished_scans(session: Session, *, project_ids: Iterable[int]) -> dict[int, Scan]:
    """Per project, its newest scan with stored results (``latest_finished_scan`` of each)."""
    newest = (
        select(func.max(Scan.id))
        .where(Scan.project_id.in_(list(project_ids)), Scan.finished_at.is_not(None))
        .group_by(Scan.project_id)
    )
    return {s.project_id: s for s in session.scalars(select(Scan).where(Scan.id.in_(newest)))}


def project_metric_scores(session: Session, project_id: int) -> dict[str, MetricScores]:
    """Per metric name, the scores a study ranks strategies by (empty without results)."""
    return projects_metric_scores(session, [project_id])[project_id]


def projects_metric_scores(
    session: Session, project_ids: Iterable[int]
) -> dict[int, dict[str, MetricScores]]:
    """``project_metric_scores`` of each project, read for all of them at once: the query
    count does not grow with the projects (except for old-style reports and scans of K
    samples, which read their scan's values)."""
    ids = list(dict.fromkeys(project_ids))
    imported = projects_imported_columns(session, project_ids=ids)
    scans = latest_finished_scans(session, project_ids=ids)
    details = {scan.id: _scan_detail(scan) for scan in scans.values()}
    columns = scans_columns(session, details=details)
    mixes = _mix_scores(session, ids)
    out = {}
    for pid in ids:
        theirs = {c.name: MetricScores.of(c) for c in imported[pid]}
        scan = scans.get(pid)
        if scan is None:
            out[pid] = theirs
            continue
        per_sample = _scan_sample_scores(session, scan, [c.name for c in columns[scan.id]])
        own = [replace(c, samples=per_sample.get(c.name)) for c in columns[scan.id]]
        out[pid] = (
            {c.name: MetricScores.of(c) for c in own}
            | _recommendation_scores(session, scan, details[scan.id])
            | mixes.get(pid, {})
            | theirs
        )
    return out


def _mix_scores(session: Session, project_ids: list[int]) -> dict[int, dict[str, MetricScores]]:
    """Per project, its newest trained per-question mix as a selector of its own, scored by
    rank (app.services.selectors.mix_ranking: the mix first, then its metric's order)."""
    newest: dict[int, tuple[str, dict]] = {}
    for pid, name, record in session.execute(  # one query: most projects have no mix at all
        select(Strategy.project_id, Strategy.name, Strategy.mix)
        .where(
            Strategy.project_id.in_(project_ids),
            Strategy.mix.is_not(None),
            exists().where(Accuracy.strategy_id == Strategy.id),  # trained
        )
        .order_by(Strategy.id.desc())
    ):
        newest.setdefault(pid, (name, record))
    if not newest:
        return {}
    rankings = mix_rankings(session, list(newest.values()))
    out = {}
    for (pid, (name, record)), ranking in zip(newest.items(), rankings, strict=True):
        detail = f"{mix_label(record)} '{name}' of scan {record.get('scan_id')}, then its order"
        out[pid] = {
            MIX: MetricScores(
                name=MIX,
                lower_is_better=True,
                per_strategy=ranking,
                source="scan",
                detail=detail,
                label="Per-question mix",
            )
        }
    return out


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
    return projects_accuracies(session, [project_id])[project_id]


def projects_accuracies(
    session: Session, project_ids: Iterable[int]
) -> dict[int, dict[str, list[float]]]:
    """``project_accuracies`` of each project, in one query."""
    out: dict[int, dict[str, list[float]]] = {pid: defaultdict(list) for pid in project_ids}
    rows = session.execute(
        select(Accuracy.project_id, Strategy.name, Accuracy.accuracy)
        .join(Strategy, Strategy.id == Accuracy.strategy_id)
        .where(Accuracy.project_id.in_(list(out)))
        .order_by(Strategy.id, Accuracy.seed)
    ).all()
    for pid, name, acc in rows:
        out[pid][name].append(float(acc))
    return {pid: dict(by_name) for pid, by_name in out.items()}
