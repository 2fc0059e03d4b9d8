"""Count each response's tokens with the project's target tokenizer, and check answers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from app.config import get_settings
from app.db import session_scope
from app.models import Project, Question, Response, Strategy
from app.services.judgements import question_texts, store_judgements, unanalyzed
from workers.jobs.context import JobContext, JobFailure

if TYPE_CHECKING:
    from workers.judging import CodeTests

BATCH = 500


def analyze_responses(ctx: JobContext) -> dict[str, Any]:
    from workers.judging import judge_answer  # each question by its own answer type
    from workers.modeling.errors import ModelLoadError

    rows, golds, model_name = _pending(ctx.project_id)
    tests = _question_tests(ctx.project_id)
    if not rows:
        return {"summary": "Nothing new to analyze."}
    try:
        tokenizer = load_tokenizer(model_name, cache_dir=get_settings().models_dir)
    except ModelLoadError as exc:
        raise JobFailure(f"cannot load the tokenizer of '{model_name}': {exc}") from exc
    with session_scope() as session:
        texts = question_texts(session, project_id=int(ctx.project_id or 0))
    total = len(rows)
    for start in range(0, total, BATCH):
        chunk = rows[start : start + BATCH]
        lengths = [len(ids) for ids in tokenizer([t for _, t, _ in chunk])["input_ids"]]
        judged = [
            judge_answer(texts[qid], text, golds.get(qid), tests=tests.get(qid)).as_dict()
            for _, text, qid in chunk
        ]
        updates = [{"rid": rid, "n": n} for (rid, _, _), n in zip(chunk, lengths, strict=True)]
        _save(updates)
        with session_scope() as session:
            stored = [(rid, qid, j) for (rid, _, qid), j in zip(chunk, judged, strict=True)]
            store_judgements(session, judge="auto", rows=stored, gold=golds)
        ctx.progress("counting tokens, checking answers", start + len(chunk), total)
    return {"summary": f"Counted tokens of {total} responses.", "responses": total}


def load_tokenizer(name: str, *, cache_dir: Path):  # type: ignore[no-untyped-def]
    """Only the tokenizer of a target (converting a packaged model once if needed)."""
    from transformers import AutoTokenizer

    from workers.modeling.sources import resolve_source

    source = resolve_source(name, cache_dir)
    return AutoTokenizer.from_pretrained(source.folder, local_files_only=True)


def _pending(project_id: int | None) -> tuple[list[tuple[int, str, int]], dict[int, str], str]:
    with session_scope() as session:
        project = session.get(Project, project_id)
        if project is None:
            raise JobFailure(f"project {project_id} no longer exists")
        rows = session.execute(
            select(Response.id, Response.text, Response.question_id)
            .join(Strategy, Strategy.id == Response.strategy_id)
            .where(Strategy.project_id == project_id, unanalyzed())
            .order_by(Response.id)
        ).all()
        golds = dict(
            session.execute(
                select(Question.id, Question.gold).where(Question.project_id == project_id)
            ).all()
        )
        return [tuple(r) for r in rows], golds, project.target_model  # type: ignore[misc]


def _question_tests(project_id: int | None) -> dict[int, CodeTests]:
    """The project's questions that came with their own tests (a field of the upload)."""
    from workers.judging import CodeTests

    with session_scope() as session:
        rows = session.execute(
            select(Question.id, Question.tests, Question.tests_field, Question.tests_setup).where(
                Question.project_id == project_id, Question.tests.is_not(None)
            )
        ).all()
    return {
        int(qid): CodeTests(tuple(tests), field or "tests", setup)
        for qid, tests, field, setup in rows
        if tests
    }


def _save(updates: list[dict[str, Any]]) -> None:
    with session_scope() as session:
        session.connection().execute(
            update(Response.__table__)
            .where(Response.__table__.c.id == _bind("rid"))
            .values(n_tokens=_bind("n")),
            updates,
        )


def _bind(name: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import bindparam

    return bindparam(name)
