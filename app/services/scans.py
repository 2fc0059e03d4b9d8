"""Familiarity scans: validate and start one, read its results."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.jobs.lifecycle import create_job
from app.metrics import registry
from app.models import Job, Question, Response, Scan, ScanAggregate, Strategy
from app.scans.status import scan_status
from app.schemas.scan_pages import ScanPage
from app.schemas.scans import AggregateRow, ScanList, ScanRead
from app.services.errors import BadInput, NotFound
from app.services.jobs import job_read
from app.services.models import check_model_ref
from app.services.projects import get_project_row, project_read
from app.specs.scan import ScanJobSpec, ScanSpec


def selected_strategies(
    session: Session, *, project_id: int, ids: list[int] | None
) -> list[Strategy]:
    rows = session.scalars(
        select(Strategy).where(Strategy.project_id == project_id).order_by(Strategy.id)
    ).all()
    if ids is not None:
        unknown = set(ids) - {s.id for s in rows}
        if unknown:
            raise BadInput(f"unknown strategies in this project: {sorted(unknown)}")
        rows = [s for s in rows if s.id in set(ids)]
    else:  # all but the lab's samples (they would cut the shared questions to the sample)
        from app.services.coverage import sample_only_ids

        out = sample_only_ids(session, project_id=project_id)
        rows = [s for s in rows if s.id not in out] or list(rows)
    if not rows:
        raise BadInput("the project has no strategies to scan: upload response files first")
    return list(rows)


def shared_question_ids(session: Session, *, strategy_ids: list[int]) -> list[int]:
    """Questions answered by every one of the strategies, in question order."""
    rows = session.execute(
        select(Response.question_id)
        .join(Question, Question.id == Response.question_id)
        .where(Response.strategy_id.in_(strategy_ids))
        .group_by(Response.question_id, Question.position)
        .having(func.count(Response.id) == len(strategy_ids))
        .order_by(Question.position)
    ).all()
    return [r[0] for r in rows]


NO_SHARED = (
    "the strategies have no question in common, so they cannot be compared: a scan scores "
    "every strategy on the same questions. Delete or replace the strategy that breaks the "
    "overlap (the project page names it), or upload responses to the shared questions"
)


def validate_scan(session: Session, *, project_id: int, data: ScanSpec) -> list[Strategy]:
    """Every check that can fail before any model work; raises BadInput with the reason."""
    project = get_project_row(session, project_id=project_id)
    try:
        check_model_ref(data.model or project.target_model)
    except BadInput as exc:
        raise BadInput(str(exc), field="model") from exc
    strategies = selected_strategies(session, project_id=project_id, ids=data.strategy_ids)
    shared = shared_question_ids(session, strategy_ids=[s.id for s in strategies])
    if not shared:
        raise BadInput(NO_SHARED)
    if data.sample * data.samples > len(shared):
        asked = f"{data.samples} samples of {data.sample}" if data.samples > 1 else data.sample
        raise BadInput(
            f"the sample ({asked}) is larger than the {len(shared)} questions "
            "shared by every strategy",
            field="sample",
        )
    own = any("own_answers" in registry.get_metric(m).needs for m in data.metrics)
    if own and data.filter_correct:
        n_gold = session.scalar(
            select(func.count(Question.id)).where(
                Question.project_id == project_id, Question.gold.is_not(None)
            )
        )
        if not n_gold:
            raise BadInput(
                "SPPL keeps only the target's correct own answers, which needs gold answers; "
                "this project has none. Switch the correctness filter off or leave SPPL out.",
                field="filter_correct",
            )
    return strategies


def start_scan(session: Session, *, project_id: int, data: ScanSpec) -> Scan:
    """Validate, then add the scan and its job (sent to the gpu queue after the commit).

    The scan row and its job store the same spec, verbatim, with the model and the
    strategies resolved."""
    strategies = validate_scan(session, project_id=project_id, data=data)
    project = get_project_row(session, project_id=project_id)
    resolved = data.model_copy(
        update={
            "model": data.model or project.target_model,
            "strategy_ids": [s.id for s in strategies],
        }
    )
    spec = resolved.to_dict()
    scan = Scan(project_id=project_id, model_name=resolved.model, spec=spec)
    session.add(scan)
    session.flush()
    job = create_job(
        session, kind="scan", project_id=project_id, spec=ScanJobSpec(scan_id=scan.id, **spec)
    )
    scan.job_id = job.id
    session.flush()
    return scan


def scan_read(session: Session, scan: Scan, job: Job | None = None) -> ScanRead:
    if job is None and scan.job_id:
        job = session.get(Job, scan.job_id, populate_existing=True)
    return ScanRead(
        id=scan.id,
        project_id=scan.project_id,
        status=scan_status(scan, job),
        model_name=scan.model_name,
        model_key=scan.model_key,
        spec=scan.spec,
        created_at=scan.created_at,
        finished_at=scan.finished_at,
        job=job_read(job) if job else None,
        label=scan.label or "",
    )


def get_scan_row(session: Session, *, project_id: int, scan_id: int) -> Scan:
    scan = session.get(Scan, scan_id, populate_existing=True)
    if scan is None or scan.project_id != project_id:
        raise NotFound(f"scan {scan_id} not found in project {project_id}")
    return scan


def list_scans(session: Session, *, project_id: int) -> ScanList:
    get_project_row(session, project_id=project_id)
    rows = session.execute(  # one query, however many scans
        select(Scan, Job)
        .outerjoin(Job, Job.id == Scan.job_id)
        .where(Scan.project_id == project_id)
        .order_by(Scan.id.desc())
    ).all()
    return ScanList(scans=[scan_read(session, scan, job) for scan, job in rows])


def get_scan_page(session: Session, *, project_id: int, scan_id: int) -> ScanPage:
    scan = get_scan_row(session, project_id=project_id, scan_id=scan_id)
    project = project_read(session, get_project_row(session, project_id=project_id))
    summary = scan.summary or {}
    return ScanPage(
        project=project,
        scan=scan_read(session, scan),
        metrics=list(scan.spec.get("metrics", [])),
        aggregates=scan_aggregates(session, scan_id=scan.id),
        warnings=list(summary.get("warnings", [])),
        summary=summary or None,
    )


def scan_aggregates(session: Session, *, scan_id: int) -> dict[str, list[AggregateRow]]:
    """Per metric, every strategy's summary, best rank first (the scan_aggregates table)."""
    rows = session.execute(
        select(ScanAggregate, Strategy.name)
        .join(Strategy, Strategy.id == ScanAggregate.strategy_id)
        .where(ScanAggregate.scan_id == scan_id)
    ).all()
    out: dict[str, list[AggregateRow]] = {}
    for agg, name in rows:
        out.setdefault(agg.metric, []).append(
            AggregateRow(
                strategy_id=agg.strategy_id,
                strategy=name,
                n=agg.n,
                mean=agg.mean,
                median=agg.median,
                std=agg.std,
                ci_low=agg.ci_low,
                ci_high=agg.ci_high,
                rank=agg.rank,
            )
        )
    for metric_rows in out.values():
        metric_rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.strategy))
    order = {m: i for i, m in enumerate((*registry.selectable(), *registry.names()))}
    return dict(sorted(out.items(), key=lambda kv: order.get(kv[0], len(order))))
