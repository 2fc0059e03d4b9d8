"""Shared questions: the questions every strategy of a project answers, which are all that a
scan compares. An upload may not take them to none without saying so, and when they drop,
the upload and the project page name the strategy that broke the overlap.

A strategy the lab made from a sample answers only the sampled questions until its full
set is generated: it is left out of the project's shared questions (``sample_only_ids``),
or a lab sample of 8 would cut every later scan of the project to 8 questions; its own
scan names it, and the project page says what it is."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.ingest.records import UploadError
from app.models import Question, Response, Strategy
from app.schemas.projects import StrategyRead
from app.schemas.uploads import StrategyIngested

NEW_SET_HINT = (
    "If it is a new set of questions on purpose (for example a test set), upload it again "
    "with “These files answer a new set of questions” ticked (API: new_question_set=true)."
)


Ids = frozenset[int]
NONE: Ids = frozenset()


def sample_only_ids(session: Session, *, project_id: int) -> Ids:
    """The lab's strategies that answer fewer than all of the project's questions (a sample,
    its full set not generated): outside the project's shared questions."""
    n_questions = session.scalar(
        select(func.count(Question.id)).where(Question.project_id == project_id)
    )
    rows = session.execute(
        select(Strategy.id, func.count(Response.id))
        .outerjoin(Response, Response.strategy_id == Strategy.id)
        .where(Strategy.project_id == project_id, Strategy.origin == "lab")
        .group_by(Strategy.id)
    ).all()
    return frozenset(sid for sid, n in rows if n < (n_questions or 0))


def _in_project(project_id: int, exclude: Ids) -> list:  # type: ignore[type-arg]
    where = [Strategy.project_id == project_id]
    return [*where, Strategy.id.not_in(exclude)] if exclude else where


def _answer_counts(project_id: int, exclude: Ids = NONE) -> Select:  # type: ignore[type-arg]
    """(question id, how many of the project's strategies answer it)."""
    return (
        select(Response.question_id, func.count(Response.id).label("n"))
        .join(Strategy, Strategy.id == Response.strategy_id)
        .where(*_in_project(project_id, exclude))
        .group_by(Response.question_id)
    )


def count_strategies(session: Session, *, project_id: int, exclude: Ids = NONE) -> int:
    stmt = select(func.count(Strategy.id)).where(*_in_project(project_id, exclude))
    return int(session.scalar(stmt) or 0)


def shared_question_ids(
    session: Session, *, project_id: int, n_strategies: int, exclude: Ids = NONE
) -> set[int]:
    if n_strategies == 0:
        return set()
    counts = _answer_counts(project_id, exclude).subquery()
    stmt = select(counts.c.question_id).where(counts.c.n == n_strategies)
    return set(session.scalars(stmt))


def shared_question_count(
    session: Session, *, project_id: int, n_strategies: int, exclude: Ids = NONE
) -> int:
    if n_strategies == 0:
        return 0
    counts = _answer_counts(project_id, exclude).subquery()
    stmt = select(func.count()).select_from(counts).where(counts.c.n == n_strategies)
    return int(session.scalar(stmt) or 0)


def lacking_counts(
    session: Session, *, project_id: int, n_strategies: int, exclude: Ids = NONE
) -> dict[int, int]:
    """Per strategy id: the questions every *other* strategy answers and it does not, i.e.
    how many shared questions the project would gain without it (leave-one-out)."""
    if n_strategies < 2:
        return {}
    counts = _answer_counts(project_id, exclude).subquery()
    near = select(counts.c.question_id).where(counts.c.n == n_strategies - 1)
    n_near = int(session.scalar(select(func.count()).select_from(near.subquery())) or 0)
    answered = dict(
        session.execute(
            select(Response.strategy_id, func.count(Response.id))
            .join(Strategy, Strategy.id == Response.strategy_id)
            .where(*_in_project(project_id, exclude), Response.question_id.in_(near))
            .group_by(Response.strategy_id)
        ).all()
    )
    ids = session.scalars(select(Strategy.id).where(*_in_project(project_id, exclude)))
    return {sid: n_near - int(answered.get(sid, 0)) for sid in ids}


def coverage_warning(strategies: list[StrategyRead], n_questions: int, n_shared: int) -> str | None:
    """The project page's note when strategies answer different questions: which strategy
    breaks the overlap (and what removing it would give back), not every partial one."""
    if len(strategies) < 2 or n_shared == n_questions:
        return None
    head = (
        f"Strategies answer different questions: only {n_shared} of {n_questions} questions "
        "are answered by every strategy. Scans use the shared questions only."
    )
    culprits = sorted((s for s in strategies if s.n_lacking), key=lambda s: -s.n_lacking)
    if not culprits:
        return f"{head} No single strategy breaks the overlap: {_answers(strategies)}."
    named = "; ".join(
        f"'{s.name}' ({s.source_filename}) lacks {s.n_lacking} question"
        f"{'' if s.n_lacking == 1 else 's'} that every other strategy answers "
        f"(without it {n_shared + s.n_lacking} would be shared)"
        for s in culprits[:5]
    )
    more = f"; and {len(culprits) - 5} more" if len(culprits) > 5 else ""
    return f"{head} {named}{more}."


def _answers(strategies: list[StrategyRead]) -> str:
    shown = ", ".join(f"'{s.name}' answers {s.n_responses}" for s in strategies[:8])
    return shown + ("…" if len(strategies) > 8 else "")


@dataclass(frozen=True)
class Before:
    """The project's strategies and shared questions before an upload."""

    n_strategies: int
    shared: set[int]

    exclude: Ids = NONE  # the lab's sample-only strategies, outside the shared questions

    @classmethod
    def load(cls, session: Session, project_id: int) -> Before:
        out = sample_only_ids(session, project_id=project_id)
        n = count_strategies(session, project_id=project_id, exclude=out)
        shared = shared_question_ids(session, project_id=project_id, n_strategies=n, exclude=out)
        return cls(n, shared, out)


@dataclass(frozen=True)
class Stored:
    """One strategy of an upload and the question ids it answers."""

    ingested: StrategyIngested
    question_ids: set[int]


def check_upload(
    before: Before, after_shared: int, stored: list[Stored], *, new_question_set: bool
) -> str | None:
    """Refuse (UploadError naming the file) an upload that leaves the project with no shared
    question, unless it is declared a new question set; else the note on a drop, or None."""
    n_after = before.n_strategies + len(stored)
    emptied = after_shared == 0 and n_after >= 2 and (before.shared or not before.n_strategies)
    if emptied and not new_question_set:
        raise _refusal(before, stored)
    return coverage_note(before, after_shared, stored, new_question_set=new_question_set)


def _refusal(before: Before, stored: list[Stored]) -> UploadError:
    if not before.n_strategies:
        files = ", ".join(
            f"{s.ingested.filename} ({s.ingested.n_responses} questions)" for s in stored
        )
        message = (
            f"the files of this upload have no question in common ({files}), so no question "
            "would be answered by every strategy and a scan could compare nothing. Check the "
            "field mapping or the id field. " + NEW_SET_HINT
        )
        return UploadError(stored[0].ingested.filename, message)
    shared = len(before.shared)
    culprits = _culprits(before, stored) or stored
    named = ", ".join(_answered(s, before) for s in culprits)
    message = (
        f"this upload would leave no question answered by every strategy (shared questions "
        f"{shared} -> 0), so a scan could compare nothing: {named}. Check that the file holds "
        "the project's questions (the field mapping or the id field). " + NEW_SET_HINT
    )
    return UploadError(culprits[0].ingested.filename, message)


def _culprits(before: Before, stored: list[Stored]) -> list[Stored]:
    """The uploaded strategies that miss some of the questions shared before."""
    return [s for s in stored if len(s.question_ids & before.shared) < len(before.shared)]


def _answered(s: Stored, before: Before) -> str:
    i = s.ingested
    return (
        f"strategy '{i.name}' from {i.filename} answers "
        f"{len(s.question_ids & before.shared)} of the {len(before.shared)} shared questions"
        f" ({i.n_new_questions} questions no other strategy has)"
    )


def coverage_note(
    before: Before, after_shared: int, stored: list[Stored], *, new_question_set: bool = False
) -> str | None:
    """Name the strategies whose file misses questions the others share, with the numbers,
    when the shared questions (what a scan compares) dropped with this upload."""
    shared_before = len(before.shared)
    if before.n_strategies == 0 or after_shared >= shared_before:
        return None
    named = ", ".join(_answered(s, before) for s in _culprits(before, stored)) or "this upload"
    declared = " (uploaded as a new question set)" if new_question_set else ""
    return (
        f"Questions answered by every strategy dropped from {shared_before} to "
        f"{after_shared} with {named}{declared}. Scans compare only those shared questions."
    )
