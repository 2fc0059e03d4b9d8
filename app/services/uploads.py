"""Ingest uploaded strategy files into a project: all files or nothing."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.ingest.formats import DecodeLimits
from app.ingest.matching import Match, QuestionMatcher, question_key
from app.ingest.read import parse_bytes
from app.ingest.records import (
    NUL_REFUSED,
    FieldMapping,
    ParsedFile,
    Record,
    UploadError,
    refuse_nul,
)
from app.ingest.repeats import count_repeats, describe_repeats
from app.jobs.lifecycle import create_job
from app.models import Question, Response, Strategy
from app.schemas.uploads import StrategyIngested, UploadResult
from app.services.coverage import Before, Stored, check_upload, shared_question_count
from app.services.errors import BadInput, Conflict
from app.services.projects import get_project_row, lock_project


@dataclass
class StrategyBatch:
    """One strategy's records from one file, ready to store."""

    name: str
    parsed: ParsedFile
    records: list[Record]
    warnings: list[str] = field(default_factory=list)


def parse_files(
    files: list[tuple[str, bytes]], *, strategy_name: str | None, mapping: FieldMapping | None
) -> list[StrategyBatch]:
    """Parse and validate every file; raise UploadError on the first problem."""
    if not files:
        raise BadInput("no files were uploaded")
    if strategy_name and len(files) > 1:
        raise BadInput("a strategy name can only be given with a single file")
    limit, limits = get_settings().max_upload_bytes, upload_limits()
    batches: list[StrategyBatch] = []
    for filename, data in files:
        _check_filename(filename)
        parsed = parse_bytes(filename, data, mapping=mapping, max_bytes=limit, limits=limits)
        batches.extend(_split_strategies(parsed, strategy_name))
    _check_unique_names(batches)
    return batches


def upload_limits() -> DecodeLimits:
    """Rows, decoded size and nesting one uploaded file may have (Settings)."""
    settings = get_settings()
    return DecodeLimits(
        rows=settings.max_upload_rows,
        depth=settings.max_upload_depth,
        decoded_bytes=int(settings.max_upload_decoded_mb * 1024 * 1024),
    )


MAX_FILENAME_CHARS = 255  # what file systems take; Strategy.source_filename holds 500


def _check_filename(filename: str) -> None:
    shown = filename.replace("\x00", "\\0")
    if len(filename) > MAX_FILENAME_CHARS:
        message = f"the file name is {len(filename)} characters long; at most {MAX_FILENAME_CHARS}"
        raise UploadError(shown[:60] + "…", message)
    refuse_nul(shown, filename, line=None, field=None)


def _split_strategies(parsed: ParsedFile, strategy_name: str | None) -> list[StrategyBatch]:
    groups = parsed.strategies()
    if list(groups) == [None]:
        name = (strategy_name or PurePath(parsed.filename).stem).strip()
        return [StrategyBatch(name, parsed, parsed.records, list(parsed.warnings))]
    if strategy_name:
        raise UploadError(parsed.filename, "the file has a strategy column; omit the name")
    return [
        StrategyBatch(str(n), parsed, recs, list(parsed.warnings)) for n, recs in groups.items()
    ]


def _check_unique_names(batches: list[StrategyBatch]) -> None:
    seen: dict[str, str] = {}
    for b in batches:
        if not b.name:
            raise UploadError(b.parsed.filename, "the strategy name is empty")
        if len(b.name) > 200:
            raise UploadError(b.parsed.filename, "the strategy name is over 200 characters")
        if "\x00" in b.name:
            raise UploadError(b.parsed.filename, f"the strategy name {NUL_REFUSED}")
        if b.name in seen:
            raise BadInput(
                f"strategy '{b.name}' comes twice in this upload "
                f"({seen[b.name]} and {b.parsed.filename})"
            )
        seen[b.name] = b.parsed.filename


def ingest_files(
    session: Session,
    *,
    project_id: int,
    files: list[tuple[str, bytes]],
    strategy_name: str | None = None,
    mapping: FieldMapping | None = None,
    replace: bool = False,
    origin: str = "upload",
    new_question_set: bool = False,
) -> UploadResult:
    """Store every strategy of the upload in the session's transaction, with an analysis job
    that is sent when the caller commits.

    Raises UploadError / BadInput / Conflict, and the caller's rollback keeps nothing: among
    them, an upload that would leave no question answered by every strategy, unless
    `new_question_set` says that its questions are a new set on purpose (a test set).
    """
    get_project_row(session, project_id=project_id)
    batches = parse_files(files, strategy_name=strategy_name, mapping=mapping)
    lock_project(session, project_id=project_id)  # names and the index read after others' commits
    replaced = _resolve_conflicts(session, project_id, batches, replace=replace)
    index = QuestionIndex.load(session, project_id)
    before = Before.load(session, project_id)
    stored = [
        _store_batch(session, project_id, b, index, origin=origin, replaced=b.name in replaced)
        for b in batches
    ]
    job = create_job(session, kind="analyze", project_id=project_id)  # sent after the commit
    session.flush()
    n_after = before.n_strategies + len(stored)
    shared = shared_question_count(
        session, project_id=project_id, n_strategies=n_after, exclude=before.exclude
    )
    note = check_upload(before, shared, stored, new_question_set=new_question_set)
    return UploadResult(
        strategies=[s.ingested for s in stored],
        job_id=job.id,
        coverage_note=note,
        n_shared_before=len(before.shared) if before.n_strategies else None,
        n_shared=shared,
    )


def _resolve_conflicts(
    session: Session, project_id: int, batches: list[StrategyBatch], *, replace: bool
) -> set[str]:
    names = [b.name for b in batches]
    existing = session.scalars(
        select(Strategy).where(Strategy.project_id == project_id, Strategy.name.in_(names))
    ).all()
    if existing and not replace:
        taken = ", ".join(sorted(s.name for s in existing))
        raise Conflict(
            f"strategy already exists: {taken}. Choose another name, or replace it "
            "(replace=true) to discard its old responses."
        )
    for s in existing:
        session.execute(delete(Response).where(Response.strategy_id == s.id))
        session.delete(s)
    session.flush()
    return {s.name for s in existing}


class QuestionIndex:
    """The project's questions, matched by ``app.ingest.matching.QuestionMatcher`` (file id,
    normalized text with repeats paired in order, or the same content in another format)."""

    def __init__(self, project_id: int, questions: list[Question]) -> None:
        self.project_id = project_id
        self.matcher: QuestionMatcher[Question] = QuestionMatcher()
        for q in sorted(questions, key=lambda q: q.position):
            self.matcher.add(q.text, q, q.external_id, q.gold)
        self.next_position = max((q.position for q in questions), default=-1) + 1

    @classmethod
    def load(cls, session: Session, project_id: int) -> QuestionIndex:
        rows = session.scalars(select(Question).where(Question.project_id == project_id)).all()
        return cls(project_id, list(rows))

    def find(self, record: Record, taken: set[Question]) -> Match[Question] | None:
        return self.matcher.find(record.question, record.source_id, record.gold, taken)

    def add(self, record: Record, key: str, *, tests_field: str | None) -> Question:
        q = Question(
            project_id=self.project_id,
            text_key=key,
            external_id=record.source_id,
            text=record.question,
            gold=record.gold,
            position=self.next_position,
            category=record.category,
        )
        _give_tests(q, record, tests_field)
        self.next_position += 1
        self.matcher.add(record.question, q, record.source_id, record.gold)
        return q


def _store_batch(
    session: Session,
    project_id: int,
    batch: StrategyBatch,
    index: QuestionIndex,
    *,
    origin: str,
    replaced: bool,
) -> Stored:
    pairs, n_new, warnings, report = _match_questions(batch, index)
    strategy = Strategy(
        project_id=project_id,
        name=batch.name,
        source_filename=batch.parsed.filename,
        file_format=batch.parsed.format,
        layout=batch.parsed.mapping.layout,
        origin=origin,
        import_report=report,
    )
    session.add(strategy)
    new_questions = [q for q, _ in pairs if q.id is None]
    session.add_all(new_questions)
    session.flush()
    rows = [
        {
            "strategy_id": strategy.id,
            "question_id": q.id,
            "text": r.response,
            "line": r.line,
            "file_correct": r.correct,
        }
        for q, r in pairs
    ]
    if rows:
        session.execute(insert(Response), rows)
    ingested = StrategyIngested(
        strategy_id=strategy.id,
        name=batch.name,
        filename=batch.parsed.filename,
        file_format=batch.parsed.format,
        layout=batch.parsed.mapping.layout,
        n_responses=len(rows),
        n_new_questions=n_new,
        n_matched_questions=len(rows) - n_new,
        replaced=replaced,
        warnings=batch.warnings + warnings,
        matched_by=report["matched_by"],
        repeats=report["repeats"],
        tests_field=batch.parsed.mapping.tests,
        n_with_tests=sum(1 for _, r in pairs if r.tests),
    )
    return Stored(ingested, {q.id for q, _ in pairs})


def _match_questions(
    batch: StrategyBatch, index: QuestionIndex
) -> tuple[list[tuple[Question, Record]], int, list[str], dict[str, Any]]:
    pairs: list[tuple[Question, Record]] = []
    taken: dict[Question, Record] = {}  # the questions this strategy answered, by which row
    matched_by: Counter[str] = Counter()
    n_new = gold_conflicts = tests_conflicts = 0
    tests_field = batch.parsed.mapping.tests
    for r in batch.records:
        match = index.find(r, taken)
        if match is None:
            q = index.add(r, question_key(r.question), tests_field=tests_field)
            n_new += 1
        else:
            q = match.value
            if q in taken:  # only an id can lead back to a question this file answered
                raise _answered_twice(batch, taken[q], r)
            matched_by[match.rule] += 1
            gold_conflicts += match.gold_conflict
            if r.gold and not q.gold:
                q.gold = r.gold
            if r.category and not q.category:
                q.category = r.category
            tests_conflicts += not _give_tests(q, r, tests_field)
        taken[q] = r
        pairs.append((q, r))
    warnings = []
    if gold_conflicts:
        warnings.append(f"{gold_conflicts} gold answers differ from the ones stored; kept those")
    if tests_conflicts:
        warnings.append(
            f"the tests of {tests_conflicts} question(s) differ from the ones stored; kept those"
        )
    repeats = count_repeats(batch.records)
    if repeats["rows"]:
        warnings.append(describe_repeats(repeats))
    report = {"matched_by": dict(matched_by), "new": n_new, "repeats": repeats}
    return pairs, n_new, warnings, report


def _give_tests(q: Question, record: Record, tests_field: str | None) -> bool:
    """Store the record's tests on a question that has none; False when the question's
    stored tests differ from the record's (the stored ones are kept)."""
    if not record.tests or not tests_field:
        return True
    if q.tests is None:
        q.tests, q.tests_field, q.tests_setup = list(record.tests), tests_field, record.tests_setup
        return True
    return q.tests == list(record.tests) and q.tests_setup == record.tests_setup


def _answered_twice(batch: StrategyBatch, earlier: Record, record: Record) -> UploadError:
    """A row without an id matched a question by its text, and a later row names that same
    question by its id: one strategy cannot answer one question twice."""
    message = (
        f"id '{record.source_id}' names the question that line {earlier.line} already "
        "answers (matched by its text); give that row its id or remove one of the rows"
    )
    return UploadError(
        batch.parsed.filename, message, line=record.line, field=batch.parsed.mapping.id
    )
