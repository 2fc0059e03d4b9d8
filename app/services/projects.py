"""Projects and their strategy summaries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.orm import Session

from app.config import get_settings
from app.ingest.matching import RULES
from app.ingest.repeats import describe_repeats
from app.models import (
    Judgement,
    LabTeacher,
    Project,
    ProjectMember,
    Question,
    Response,
    Scan,
    Strategy,
)
from app.schemas.estimates import QueueEntry
from app.schemas.projects import (
    LatestValidation,
    ProjectCreate,
    ProjectList,
    ProjectPage,
    ProjectRead,
    StrategyRead,
)
from app.schemas.scans import ScanRead
from app.services.coverage import (
    coverage_warning,
    lacking_counts,
    sample_only_ids,
    shared_question_count,
)
from app.services.errors import BadInput, Conflict, NotFound
from app.services.jobs import list_jobs
from app.services.outcomes import latest_outcomes


def create_project(
    session: Session, *, data: ProjectCreate, is_demo: bool = False, owner_id: int | None = None
) -> Project:
    """A new project; `owner_id` (the signed-in creator) becomes its owner."""
    project = Project(
        name=data.name.strip(),
        description=data.description.strip(),
        target_model=(data.target_model or "").strip() or get_settings().default_model,
        is_demo=is_demo,
    )
    session.add(project)
    session.flush()
    # the strategy lab's built-in teacher, the target itself (no key): made with the project
    # so that reading the lab never writes
    session.add(
        LabTeacher(project_id=project.id, name="target", kind="target", model=project.target_model)
    )
    if owner_id is not None:
        session.add(ProjectMember(project_id=project.id, user_id=owner_id, role="owner"))
        session.flush()
    return project


def get_project_row(session: Session, *, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    return project


def lock_project(session: Session, *, project_id: int) -> None:
    """Hold the project for writing until the session's transaction ends, so that writers
    of its questions and strategy names (uploads, own answers, renames) in any process run
    one after another, each seeing what the previous one committed.

    Postgres: the project row ``FOR NO KEY UPDATE`` (rows that merely reference the project
    are not blocked). SQLite: a no-op UPDATE, which takes the database's write lock now
    (waiting up to the busy timeout) instead of at the first insert, after the reads.
    A uniqueness constraint cannot do this: repeated questions share a text key, and the
    "contained" rule matches texts that differ.
    """
    if session.get_bind().dialect.name == "postgresql":
        stmt = select(Project.id).where(Project.id == project_id)
        found = session.scalar(stmt.with_for_update(key_share=True))
    else:
        stmt = update(Project).where(Project.id == project_id).values(id=Project.id)
        found = session.execute(stmt).rowcount
    if not found:
        raise NotFound(f"project {project_id} not found")


def project_read(session: Session, project: Project) -> ProjectRead:
    n_strategies = session.scalar(
        select(func.count(Strategy.id)).where(Strategy.project_id == project.id)
    )
    n_questions = session.scalar(
        select(func.count(Question.id)).where(Question.project_id == project.id)
    )
    outcome = latest_outcomes(session, [project.id]).get(project.id)
    return ProjectRead.model_validate(project).model_copy(
        update={
            "n_strategies": n_strategies or 0,
            "n_questions": n_questions or 0,
            "outcome": outcome,
        }
    )


def list_projects(session: Session, *, member_id: int | None = None) -> ProjectList:
    """Every project (or those `member_id` is a member of) with its counts and its newest
    scan's recommendation, in four queries however many projects there are."""
    query = select(Project).order_by(Project.id.desc())
    if member_id is not None:
        mine = select(ProjectMember.project_id).where(ProjectMember.user_id == member_id)
        query = query.where(Project.id.in_(mine))
    rows = session.scalars(query).all()
    strategies = _counts(session, Strategy.project_id, Strategy.id)
    questions = _counts(session, Question.project_id, Question.id)
    outcomes = latest_outcomes(session, None if member_id is None else [p.id for p in rows])
    return ProjectList(
        projects=[
            ProjectRead.model_validate(p).model_copy(
                update={
                    "n_strategies": strategies.get(p.id, 0),
                    "n_questions": questions.get(p.id, 0),
                    "outcome": outcomes.get(p.id),
                }
            )
            for p in rows
        ]
    )


def _counts(session: Session, key, counted) -> dict[int, int]:  # type: ignore[no-untyped-def]
    rows = session.execute(select(key, func.count(counted)).group_by(key)).all()
    return {int(k): int(n) for k, n in rows}


def import_notes(report: dict[str, Any] | None) -> list[str]:
    """The import report of a strategy in words, for the project page."""
    if not report:
        return []
    notes = []
    if report.get("repeats", {}).get("rows"):
        notes.append(describe_repeats(report["repeats"]))
    by_rule = report.get("matched_by") or {}
    if by_rule.get("contained"):
        notes.append(
            f"{by_rule['contained']} question(s) matched in another prompt format "
            f"(rule 'contained': {RULES['contained']})"
        )
    return notes


def strategy_stats(session: Session, *, project_id: int) -> list[StrategyRead]:
    """Per strategy: responses, mean tokens, share correct (over the responses with a
    verdict, whatever its source), how many are not judged or carry a human or the file's
    verdict, and how often Familiar's judge agrees with the file; coverage by the caller."""
    gold_known = Response.correct.is_not(None)
    judged = Judgement.verdict
    both_known = and_(judged.is_not(None), Response.file_correct.is_not(None))
    source = Response.verdict_source
    rows = session.execute(
        select(
            Strategy,
            func.count(Response.id),
            func.avg(Response.n_tokens),
            func.sum(case((Response.correct.is_(True), 1), else_=0)),
            func.sum(case((gold_known, 1), else_=0)),
            func.sum(case((both_known, 1), else_=0)),
            func.sum(case((and_(both_known, Response.file_correct == judged), 1), else_=0)),
            func.sum(case((source == "not_judged", 1), else_=0)),
            func.sum(case((source == "file", 1), else_=0)),
            func.sum(case((source == "human", 1), else_=0)),
        )
        .outerjoin(Response, Response.strategy_id == Strategy.id)
        .outerjoin(Judgement, and_(Judgement.response_id == Response.id, Judgement.judge == "auto"))
        .where(Strategy.project_id == project_id)
        .group_by(Strategy.id)
        .order_by(Strategy.id)
    ).all()
    return [_strategy_read(*row) for row in rows]


def _strategy_read(
    s: Strategy,
    n: int,
    avg: float | None,
    ok: int | None,
    checked: int | None,
    files: int | None = 0,
    agree: int | None = 0,
    not_judged: int | None = 0,
    from_file: int | None = 0,
    human: int | None = 0,
) -> StrategyRead:
    checked, files = int(checked or 0), int(files or 0)
    return StrategyRead(
        id=s.id,
        name=s.name,
        source_filename=s.source_filename,
        file_format=s.file_format,
        layout=s.layout,
        origin=s.origin,
        created_at=s.created_at,
        n_responses=n,
        coverage=0.0,
        mean_tokens=float(avg) if avg is not None else None,
        share_correct=(int(ok or 0) / checked) if checked else None,
        n_checked=checked,
        import_report=s.import_report,
        import_notes=import_notes(s.import_report),
        mix=s.mix,
        mix_note=mix_note(s.mix),
        lab=s.lab,
        n_file_verdicts=files,
        agreement=int(agree or 0) / files if files else None,
        n_not_judged=int(not_judged or 0),
        n_from_file=int(from_file or 0),
        n_human=int(human or 0),
    )


def mix_note(mix: dict[str, Any] | None) -> str | None:
    """A per-question mix in words (app.services.mixes): from which scan, by which metric,
    how many questions each source strategy gave."""
    if not mix:
        return None
    parts = ", ".join(f"{s['name']} {s['n']}" for s in mix.get("sources") or [])
    return (
        f"per-question {mix.get('label')} mix of scan {mix.get('scan_id')}: "
        f"{mix.get('n_questions')} questions ({parts})"
    )


def get_project_page(session: Session, *, project_id: int) -> ProjectPage:
    from app.lab.story import lab_story  # the lab's services read projects: import late

    project = get_project_row(session, project_id=project_id)
    read = project_read(session, project)
    strategies = strategy_stats(session, project_id=project_id)
    out = sample_only_ids(session, project_id=project_id)  # lab samples: not in the overlap
    counted = [s for s in strategies if s.id not in out]
    n = len(counted)
    n_shared = shared_question_count(session, project_id=project_id, n_strategies=n, exclude=out)
    # who breaks the overlap: only asked when something does (two more passes over responses)
    broken = n_shared < read.n_questions
    lacking = (
        lacking_counts(session, project_id=project_id, n_strategies=n, exclude=out)
        if broken
        else {}
    )
    for s in strategies:
        s.coverage = s.n_responses / read.n_questions if read.n_questions else 0.0
        s.n_lacking = lacking.get(s.id, 0)
        s.sample_only = s.id in out
    return ProjectPage(
        project=read,
        strategies=strategies,
        n_questions=read.n_questions,
        n_shared=n_shared,
        coverage_warning=coverage_warning(counted, read.n_questions, n_shared),
        jobs=list_jobs(session, project_id=project_id),
        queue=_queue(session, project_id),
        scans=_scans(session, project_id),
        validation=latest_validation(session, project_id=project_id),
        lab=lab_story(session, project_id=project_id),
    )


def latest_validation(session: Session, *, project_id: int) -> LatestValidation | None:
    """The newest finished validation that evaluated an adapter, with what it found."""
    from app.models import Validation
    from app.services.validations.outcome import validation_outcomes
    from app.services.validations.states import ValidationState

    done = session.scalars(
        select(Validation)
        .where(Validation.project_id == project_id, Validation.status == ValidationState.DONE)
        .order_by(Validation.id.desc())
        .limit(5)  # a finished validation with no evaluated adapter has no outcome
    ).all()
    outcomes = validation_outcomes(session, list(done))
    for v in done:
        if v.id in outcomes:
            label = v.label or f"Validation {v.id}"
            return LatestValidation(
                id=v.id, label=label, finished_at=v.finished_at, outcome=outcomes[v.id]
            )
    return None


def rename_project(
    session: Session, *, project_id: int, name: str, description: str | None = None
) -> Project:
    project = get_project_row(session, project_id=project_id)
    if not name.strip():
        raise BadInput("name: a project needs a name")
    project.name = name.strip()
    if description is not None:
        project.description = description.strip()
    session.flush()
    return project


def rename_strategy(session: Session, *, project_id: int, strategy_id: int, name: str) -> Strategy:
    """Rename a strategy; refused while a stored scan names it (its report keys by name)."""
    from app.services.deletions import scans_of_strategy

    strategy = session.get(Strategy, strategy_id)
    if strategy is None or strategy.project_id != project_id:
        raise NotFound(f"strategy {strategy_id} not found in project {project_id}")
    name = name.strip()
    if not name:
        raise BadInput("name: a strategy needs a name")
    if name == strategy.name:
        return strategy
    lock_project(session, project_id=project_id)  # a concurrent upload of that name waits
    taken = session.scalar(
        select(Strategy.id).where(Strategy.project_id == project_id, Strategy.name == name)
    )
    if taken:
        raise Conflict(f"this project already has a strategy named '{name}'")
    scans = scans_of_strategy(session, project_id, strategy_id)
    if scans:
        ids = ", ".join(str(s.id) for s in scans)
        raise Conflict(
            f"'{strategy.name}' is in the stored results of scan {ids}, which name it as it "
            "was scanned; delete those scans first, or upload it again under the new name"
        )
    strategy.name = name
    session.flush()
    return strategy


def rename_scan(session: Session, *, project_id: int, scan_id: int, label: str) -> Scan:
    """Give a scan a name (empty: back to "Scan N"); results are keyed by id, so any time."""
    scan = session.get(Scan, scan_id)
    if scan is None or scan.project_id != project_id:
        raise NotFound(f"scan {scan_id} not found in project {project_id}")
    scan.label = label.strip()
    session.flush()
    return scan


def delete_project(session: Session, *, project_id: int) -> None:
    session.delete(get_project_row(session, project_id=project_id))


def find_project(session: Session, *, ref: str) -> Project:
    """A project by id, or else by exact name."""
    if ref.isdigit():
        return get_project_row(session, project_id=int(ref))
    project = session.scalars(select(Project).where(Project.name == ref)).first()
    if project is None:
        raise NotFound(f"no project with id or name '{ref}'")
    return project


def _scans(session: Session, project_id: int) -> list[ScanRead]:
    from app.services.scans import list_scans

    return list_scans(session, project_id=project_id).scans


def _queue(session: Session, project_id: int) -> list[QueueEntry]:
    from app.services.estimates import project_queue

    return project_queue(session, project_id=project_id)
