"""Imported metrics: store a file (all or nothing), list, delete, and read their values."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.ingest.read import check_size
from app.models import ImportedMetric, ImportedMetricValue, Question, Strategy
from app.schemas.metrics import ImportedMetricRead, MetricsPage, MetricUploadResult
from app.services.errors import NotFound
from app.services.metrics.parse import (
    Defaults,
    ParsedMetric,
    QuestionLookup,
    check_direction,
    check_name,
    parse_metric_file,
    reserved_names,
)
from app.services.projects import get_project_row, project_read


def question_lookup(session: Session, *, project_id: int) -> QuestionLookup:
    rows = session.execute(
        select(Question.id, Question.external_id, Question.text_key)
        .where(Question.project_id == project_id)
        .order_by(Question.position)
    ).all()
    by_text: dict[str, int] = {}
    for qid, _, key in rows:
        by_text.setdefault(key, qid)
    return QuestionLookup(
        by_external={ext: qid for qid, ext, _ in rows if ext},
        by_internal={str(qid): qid for qid, ext, _ in rows if not ext},
        by_text_key=by_text,
    )


def _defaults(filename: str, name: str | None, direction: str | None) -> Defaults:
    return Defaults(
        name=check_name(filename, name, None, "name") if name else None,
        lower_is_better=check_direction(filename, direction, None, "direction")
        if direction
        else None,
    )


def store_metrics(
    session: Session,
    *,
    project_id: int,
    filename: str,
    data: bytes,
    name: str | None = None,
    direction: str | None = None,
) -> MetricUploadResult:
    """Parse the whole file first, then replace the project's metrics of the same names."""
    get_project_row(session, project_id=project_id)
    check_size(filename, len(data), get_settings().max_upload_bytes)
    ids = strategy_ids(session, project_id=project_id)
    parsed = parse_metric_file(
        filename,
        data,
        strategies=set(ids),
        lookup=question_lookup(session, project_id=project_id),
        defaults=_defaults(filename, name, direction),
    )
    old = session.scalars(
        select(ImportedMetric).where(
            ImportedMetric.project_id == project_id, ImportedMetric.name.in_(list(parsed))
        )
    ).all()
    replaced = sorted(m.name for m in old)
    for m in old:
        session.execute(delete(ImportedMetricValue).where(ImportedMetricValue.metric_id == m.id))
        session.delete(m)
    session.flush()
    rows = [_store_one(session, project_id, filename, m, ids) for m in parsed.values()]
    session.flush()
    names = {v: k for k, v in ids.items()}
    return MetricUploadResult(
        filename=filename, replaced=replaced, metrics=[metric_read(session, r, names) for r in rows]
    )


def _store_one(
    session: Session, project_id: int, filename: str, parsed: ParsedMetric, ids: dict[str, int]
) -> ImportedMetric:
    row = ImportedMetric(
        project_id=project_id,
        name=parsed.name,
        lower_is_better=parsed.lower_is_better,
        per=parsed.per,
        source_filename=filename[:500],
        n_values=len(parsed.values),
        n_samples=len(parsed.samples),
    )
    session.add(row)
    session.flush()
    index = {s: i for i, s in enumerate(parsed.samples)}  # samples renumbered 0..K-1
    session.execute(
        insert(ImportedMetricValue),
        [
            {
                "metric_id": row.id,
                "strategy_id": ids[s],
                "question_id": q,
                "sample": index[k],
                "value": v,
            }
            for (s, q, k), v in parsed.values.items()
        ],
    )
    return row


def strategy_ids(session: Session, *, project_id: int) -> dict[str, int]:
    return dict(
        session.execute(
            select(Strategy.name, Strategy.id).where(Strategy.project_id == project_id)
        ).all()
    )


@dataclass
class MetricValues:
    """One imported metric's values by strategy name."""

    row: ImportedMetric
    # strategy -> question key (str id, or "" per strategy) -> value, over all samples
    values: dict[str, dict[str, float]] = field(default_factory=dict)
    # per sample: strategy -> question key -> value
    by_sample: list[dict[str, dict[str, float]]] = field(default_factory=list)

    def means(self) -> dict[str, float]:
        return {s: sum(v.values()) / len(v) for s, v in self.values.items() if v}

    def sample_means(self) -> list[dict[str, float]]:
        return [
            {s: sum(v.values()) / len(v) for s, v in sample.items() if v}
            for sample in self.by_sample
        ]


ValueRow = tuple[int, int | None, int, float]  # strategy id, question id, sample, value


def metric_values(session: Session, row: ImportedMetric, names: dict[int, str]) -> MetricValues:
    rows = session.execute(
        select(
            ImportedMetricValue.strategy_id,
            ImportedMetricValue.question_id,
            ImportedMetricValue.sample,
            ImportedMetricValue.value,
        )
        .where(ImportedMetricValue.metric_id == row.id)
        .order_by(ImportedMetricValue.id)
    ).all()
    return fold_values(row, rows, names)


def fold_values(
    row: ImportedMetric, rows: Iterable[ValueRow], names: dict[int, str]
) -> MetricValues:
    """One metric's stored rows, in storage order, as values by strategy name."""
    out = MetricValues(row, by_sample=[defaultdict(dict) for _ in range(max(row.n_samples, 1))])
    values: dict[str, dict[str, float]] = defaultdict(dict)
    for sid, qid, sample, value in rows:
        name, key = names[sid], "" if qid is None else str(qid)
        values[name][key if qid is not None else f"s{sample}"] = value
        out.by_sample[sample][name][key] = value
    if row.per == "strategy":  # one value per strategy and sample: the mean over samples
        values = {s: {"": sum(v.values()) / len(v)} for s, v in values.items()}
    out.values = dict(values)
    return out


def project_metric_values(session: Session, *, project_id: int) -> list[MetricValues]:
    return projects_metric_values(session, project_ids=[project_id])[project_id]


def projects_metric_values(
    session: Session, *, project_ids: Iterable[int]
) -> dict[int, list[MetricValues]]:
    """Each project's imported metrics by name, in three queries however many projects (the
    metrics, their strategies' names, their values) and one where none has any."""
    out: dict[int, list[MetricValues]] = {pid: [] for pid in project_ids}
    rows = session.scalars(
        select(ImportedMetric)
        .where(ImportedMetric.project_id.in_(list(out)))
        .order_by(ImportedMetric.name)
    ).all()
    if not rows:
        return out
    names = dict(
        session.execute(
            select(Strategy.id, Strategy.name).where(
                Strategy.project_id.in_({r.project_id for r in rows})
            )
        ).all()
    )
    by_metric: dict[int, list[ValueRow]] = defaultdict(list)
    for metric_id, *value in session.execute(
        select(
            ImportedMetricValue.metric_id,
            ImportedMetricValue.strategy_id,
            ImportedMetricValue.question_id,
            ImportedMetricValue.sample,
            ImportedMetricValue.value,
        )
        .where(ImportedMetricValue.metric_id.in_([r.id for r in rows]))
        .order_by(ImportedMetricValue.metric_id, ImportedMetricValue.id)
    ):
        by_metric[metric_id].append(tuple(value))  # type: ignore[arg-type]
    for r in rows:
        out[r.project_id].append(fold_values(r, by_metric[r.id], names))
    return out


def metric_read(session: Session, row: ImportedMetric, names: dict[int, str]) -> ImportedMetricRead:
    return _read(metric_values(session, row, names))


def _read(mv: MetricValues) -> ImportedMetricRead:
    r = mv.row
    return ImportedMetricRead(
        name=r.name,
        lower_is_better=r.lower_is_better,
        per=r.per,  # type: ignore[arg-type]
        source_filename=r.source_filename,
        created_at=r.created_at,
        n_values=r.n_values,
        n_samples=r.n_samples,
        means=mv.means(),
    )


def get_metrics_page(session: Session, *, project_id: int) -> MetricsPage:
    project = project_read(session, get_project_row(session, project_id=project_id))
    metrics = [_read(mv) for mv in project_metric_values(session, project_id=project_id)]
    return MetricsPage(project=project, metrics=metrics, built_in=list(reserved_names()))


def delete_metric(session: Session, *, project_id: int, name: str) -> int:
    """Delete one imported metric with its values; returns how many values went."""
    get_project_row(session, project_id=project_id)
    row = session.scalar(
        select(ImportedMetric).where(
            ImportedMetric.project_id == project_id, ImportedMetric.name == name
        )
    )
    if row is None:
        raise NotFound(f"no imported metric '{name}' in project {project_id}")
    n = row.n_values
    session.execute(delete(ImportedMetricValue).where(ImportedMetricValue.metric_id == row.id))
    session.delete(row)
    session.flush()
    return n


def source_text(filename: str, at: datetime) -> str:
    return f"imported from {filename}, {at:%Y-%m-%d %H:%M} UTC"
