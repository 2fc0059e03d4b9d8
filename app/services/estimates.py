"""How long model work will take on this machine, from rates measured by earlier jobs.

Rates come from finished work with the same model: seconds per generated own answer (the
own-answers jobs and scans that generated some) and seconds per scored item (scans). With
no measurement yet, estimates say so instead of guessing.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.jobs.states import JobState
from app.metrics import registry
from app.models import Job, OwnAnswer, Project, Question, Scan, Strategy
from app.schemas.estimates import QueueEntry, Rates, ScanEstimate
from app.services.jobs import job_read
from app.services.models import HUB_ID
from app.specs.scan import ScanJobSpec, ScanSpec

RECENT = 20  # finished jobs looked at, newest first
SCORING_PHASES = tuple(registry.SCORING_PHASE.values())


def measured_rates(session: Session, *, model_name: str) -> Rates:
    """The newest measured generation and scoring rates of ``model_name`` here."""
    answer_s = item_s = None
    source: list[str] = []
    scans = session.execute(
        select(Scan.id, Scan.summary)
        .where(Scan.model_name == model_name, Scan.finished_at.is_not(None))
        .order_by(Scan.id.desc())
        .limit(RECENT)
    ).all()
    for scan_id, summary in scans:
        timings, counts = (summary or {}).get("timings", {}), (summary or {}).get("counts", {})
        scored = int(counts.get("scored_items") or 0)
        if item_s is None and scored >= 10:
            item_s = sum(float(timings.get(p, 0.0)) for p in SCORING_PHASES) / scored
            source.append(f"scoring: scan {scan_id}")
        generated = int(counts.get("generated") or 0)
        if answer_s is None and generated >= 3 and timings.get("generating"):
            answer_s = float(timings["generating"]) / generated
            source.append(f"generation: scan {scan_id}")
    if answer_s is None:
        answer_s = _own_answer_rate(session, model_name, source)
    return Rates(seconds_per_answer=answer_s, seconds_per_item=item_s, source=", ".join(source))


def _own_answer_rate(session: Session, model_name: str, source: list[str]) -> float | None:
    rows = session.execute(
        select(Job.id, Job.result)
        .where(Job.kind == "generate_own_answers", Job.status == JobState.SUCCEEDED.value)
        .order_by(Job.id.desc())
        .limit(RECENT)
    ).all()
    for job_id, result in rows:
        result = result or {}
        if result.get("model") == model_name and int(result.get("generated") or 0) >= 3:
            source.append(f"generation: job {job_id}")
            return float(result["generating_s"]) / int(result["generated"])
    return None


def estimate_scan(session: Session, *, project_id: int, spec: ScanSpec) -> ScanEstimate:
    """Own answers still to generate and items to score for ``spec``, and the time."""
    project = session.get(Project, project_id)
    model = spec.model or (project.target_model if project else "")
    n_strategies = len(spec.strategy_ids or []) or int(
        session.scalar(select(func.count(Strategy.id)).where(Strategy.project_id == project_id))
        or 0
    )
    components = len(registry.scored_prompts(spec.metrics))  # each response once per prompt
    items = n_strategies * spec.sample * spec.samples * components
    own = "own_answers" in registry.needs_of(spec.metrics)
    answers = _answers_needed(session, project_id, model, spec) if own else 0
    rates = measured_rates(session, model_name=model)
    seconds = None
    if rates.seconds_per_item is not None and (not answers or rates.seconds_per_answer):
        seconds = items * rates.seconds_per_item + answers * (rates.seconds_per_answer or 0.0)
    return ScanEstimate(
        model=model, items=items, answers_to_generate=answers, seconds=seconds, rates=rates
    )


def _answers_needed(session: Session, project_id: int, model: str, spec: ScanSpec) -> int:
    """The SPPL pool minus the questions the model already answered (any earlier job)."""
    with_gold = Question.gold.is_not(None) if spec.filter_correct else True
    pool = int(
        session.scalar(
            select(func.count(Question.id)).where(Question.project_id == project_id, with_gold)
        )
        or 0
    )
    pool, prefix = min(pool, spec.pool), _key_prefix(model)
    if prefix is None:
        return pool
    known = int(
        session.scalar(
            select(func.count(func.distinct(OwnAnswer.question_id)))
            .join(Question, Question.id == OwnAnswer.question_id)
            .where(Question.project_id == project_id, OwnAnswer.model_key.startswith(prefix))
        )
        or 0
    )
    return max(0, pool - known)


def _key_prefix(model: str) -> str | None:
    """How the workers' model keys begin for this reference (workers.modeling.sources); a
    folder is keyed by a digest of its files, which the web process does not compute."""
    if model.startswith("packaged:"):
        return model + "|"
    if HUB_ID.match(model):
        return f"hf:{model.partition('@')[0]}@"
    return None


def project_queue(session: Session, *, project_id: int) -> list[QueueEntry]:
    """The project's unfinished jobs: what runs, what waits behind what, how long each takes.

    One job runs at a time per queue (the embedded default); a team with N GPU workers runs
    N at once, so waiting times are an upper bound there."""
    unfinished = session.scalars(
        select(Job).where(Job.status.in_(("queued", "running", "cancelling"))).order_by(Job.id)
    ).all()
    ahead: dict[str, float | None] = {}
    entries = []
    for job in unfinished:
        read = job_read(job)
        own = _remaining(session, job, read.eta_s)
        wait = ahead.get(job.queue, 0.0)
        if job.project_id == project_id:
            entries.append(
                QueueEntry(
                    job=read,
                    seconds_left=own,
                    starts_in_s=None if job.status != "queued" else wait,
                    waits_behind=_behind(unfinished, job),
                )
            )
        ahead[job.queue] = None if wait is None or own is None else wait + own
    return entries


def _later_phases(session: Session, job: Job) -> float:
    """A running scan's phases after the current one (its ETA covers only the current)."""
    if job.kind != "scan" or job.phase not in SCORING_PHASES:
        return 0.0
    spec = ScanJobSpec.model_validate(job.spec or {}).scan_spec()
    rate = measured_rates(session, model_name=spec.model or "").seconds_per_item
    phases = [registry.SCORING_PHASE[p] for p in registry.scored_prompts(spec.metrics)]
    later = phases[phases.index(job.phase) + 1 :] if job.phase in phases else []
    per_phase = len(spec.strategy_ids or []) * spec.sample * spec.samples
    return len(later) * per_phase * rate if rate else 0.0


def _behind(unfinished: list[Job], job: Job) -> list[int]:
    if job.status != "queued":
        return []
    return [j.id for j in unfinished if j.queue == job.queue and j.id < job.id]


def _remaining(session: Session, job: Job, eta_s: float | None) -> float | None:
    if job.status != "queued":
        return eta_s + _later_phases(session, job) if eta_s is not None else None
    if job.kind == "scan":
        spec = ScanJobSpec.model_validate(job.spec or {}).scan_spec()
        return estimate_scan(session, project_id=job.project_id or 0, spec=spec).seconds
    if job.kind == "generate_own_answers" and job.project_id:
        project = session.get(Project, job.project_id)
        rate = measured_rates(session, model_name=project.target_model).seconds_per_answer
        n = int(
            session.scalar(
                select(func.count(Question.id)).where(Question.project_id == job.project_id)
            )
            or 0
        )
        limit = (job.spec or {}).get("limit")
        return rate * min(n, limit or n) if rate else None
    return None
