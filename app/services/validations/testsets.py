"""The project's test set: an uploaded file of questions with gold answers, or questions held
out from the shared ones with a recorded seed. All or nothing, like every upload.

Questions are keyed as uploads key them (``app.ingest.matching.question_key``), so a test
question that also appears among the training questions is found and kept out of training
(``leaking_question_ids``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.ingest.formats import decode_rows
from app.ingest.layouts import GOLD_FIELDS, INPUT_FIELDS, candidate_mappings, field_names
from app.ingest.matching import question_key
from app.ingest.read import build_records, check_size
from app.ingest.records import FieldMapping, UploadError
from app.models import Question, TestQuestion, TestSet
from app.schemas.validations import TestSetRead
from app.services.errors import BadInput
from app.services.projects import get_project_row

QUESTION_FIELDS = ("question", "instruction", "prompt", "problem", "query")


@dataclass(frozen=True)
class TestItem:
    __test__ = False
    line: int
    text: str
    gold: str


def parse_test_file(filename: str, data: bytes) -> list[TestItem]:
    """Questions with gold answers; raises UploadError naming the file, line and field."""
    check_size(filename, len(data), get_settings().max_upload_bytes)
    _, rows = decode_rows(filename, data)
    if not rows:
        raise UploadError(filename, "the file has no rows")
    mapping = _mapping(filename, field_names(rows))
    records, _ = build_records(filename, rows, mapping)
    items = []
    for r in records:
        gold = (r.gold or "").strip()
        if not gold:
            raise UploadError(
                filename, "a test question needs its gold answer", line=r.line, field=mapping.gold
            )
        items.append(TestItem(r.line, r.question, gold))
    return items


def _mapping(filename: str, found: set[str]) -> FieldMapping:
    """The upload layouts when one fits (the response is ignored), else question + gold."""
    gold = next((f for f in GOLD_FIELDS if f in found), None)
    if gold is None:
        raise UploadError(
            filename,
            "a test set needs gold answers, and no row has a gold field "
            f"({', '.join(GOLD_FIELDS)}); fields found: "
            f"{', '.join(sorted(found)) or 'none'}",
        )
    options = [m for m in candidate_mappings(found) if m.layout not in ("messages", "sharegpt")]
    if len(options) == 1:
        return options[0]
    question = next((f for f in QUESTION_FIELDS if f in found), None)
    if question is None:
        raise UploadError(
            filename,
            f"no question field ({', '.join(QUESTION_FIELDS)}); "
            f"fields found: {', '.join(sorted(found))}",
        )
    text_input = next((f for f in INPUT_FIELDS if f in found), None)
    return FieldMapping("custom", question=question, response=gold, input=text_input, gold=gold)


def store_test_set(session: Session, *, project_id: int, filename: str, data: bytes) -> TestSetRead:
    """Parse the whole file, then make it the project's test set."""
    get_project_row(session, project_id=project_id)
    items = parse_test_file(filename, data)
    test_set = TestSet(
        project_id=project_id, source="upload", filename=filename, n_questions=len(items)
    )
    session.add(test_set)
    session.flush()
    session.add_all(
        TestQuestion(
            test_set_id=test_set.id,
            position=i,
            text_key=question_key(it.text),
            text=it.text,
            gold=it.gold,
            line=it.line,
        )
        for i, it in enumerate(items)
    )
    session.flush()
    return test_set_read(session, test_set)


def add_generated_test_set(
    session: Session, *, project_id: int, items: list[tuple[str, str]], source: str, seed: int
) -> TestSet:
    """A test set of generated (question, gold) pairs (the demo's held-out problems)."""
    test_set = TestSet(
        project_id=project_id, source=source, filename="", seed=seed, n_questions=len(items)
    )
    session.add(test_set)
    session.flush()
    session.add_all(
        TestQuestion(
            test_set_id=test_set.id, position=i, text_key=question_key(text), text=text, gold=gold
        )
        for i, (text, gold) in enumerate(items)
    )
    session.flush()
    return test_set


def hold_out_test_set(session: Session, *, project_id: int, n: int, seed: int) -> TestSetRead:
    """``n`` of the project's questions with a gold answer, drawn with ``seed``, become the
    test set; validations never train on them."""
    get_project_row(session, project_id=project_id)
    rows = session.execute(
        select(Question.id, Question.text, Question.gold)
        .where(Question.project_id == project_id, Question.gold.is_not(None))
        .order_by(Question.position)
    ).all()
    rows = [r for r in rows if (r.gold or "").strip()]
    if n < 1 or n > len(rows):
        raise BadInput(
            f"n: can hold out 1 to {len(rows)} questions (those with a gold answer); asked for {n}",
            field="n",
        )
    picked = sorted(random.Random(seed).sample(range(len(rows)), n))
    test_set = TestSet(project_id=project_id, source="holdout", seed=seed, n_questions=n)
    session.add(test_set)
    session.flush()
    session.add_all(
        TestQuestion(
            test_set_id=test_set.id,
            position=i,
            text_key=question_key(rows[j].text),
            text=rows[j].text,
            gold=rows[j].gold.strip(),
            question_id=rows[j].id,
        )
        for i, j in enumerate(picked)
    )
    session.flush()
    return test_set_read(session, test_set)


def current_test_set(session: Session, *, project_id: int) -> TestSet | None:
    return session.scalar(
        select(TestSet).where(TestSet.project_id == project_id).order_by(TestSet.id.desc())
    )


def leaking_question_ids(session: Session, *, project_id: int, test_set_id: int) -> set[int]:
    """Project questions that are test questions too (same question key, or held out)."""
    keys = select(TestQuestion.text_key).where(TestQuestion.test_set_id == test_set_id)
    by_key = session.scalars(
        select(Question.id).where(Question.project_id == project_id, Question.text_key.in_(keys))
    ).all()
    held = session.scalars(
        select(TestQuestion.question_id).where(
            TestQuestion.test_set_id == test_set_id, TestQuestion.question_id.is_not(None)
        )
    ).all()
    return set(by_key) | {q for q in held if q is not None}


def test_set_read(session: Session, test_set: TestSet) -> TestSetRead:
    leaks = leaking_question_ids(session, project_id=test_set.project_id, test_set_id=test_set.id)
    sample = session.scalars(
        select(TestQuestion)
        .where(TestQuestion.test_set_id == test_set.id)
        .order_by(TestQuestion.position)
        .limit(3)
    ).all()
    n = session.scalar(
        select(func.count(TestQuestion.id)).where(TestQuestion.test_set_id == test_set.id)
    )
    return TestSetRead(
        id=test_set.id,
        project_id=test_set.project_id,
        source=test_set.source,
        filename=test_set.filename,
        seed=test_set.seed,
        n_questions=int(n or 0),
        n_overlapping_training=len(leaks),
        created_at=test_set.created_at,
        sample=[{"question": q.text[:300], "gold": q.gold} for q in sample],
    )


def get_test_set(session: Session, *, project_id: int) -> TestSetRead | None:
    get_project_row(session, project_id=project_id)
    test_set = current_test_set(session, project_id=project_id)
    return test_set_read(session, test_set) if test_set else None
