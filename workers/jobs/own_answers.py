"""Generate the target model's own zero-shot answers and add them as a strategy."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from app.config import get_settings
from app.db import session_scope
from app.models import Project, Question
from app.services.jobs import create_job, enqueue
from app.services.own_answers import save_own_answers, store_as_strategy
from workers.jobs.context import JobContext, JobFailure
from workers.jobs.scan import OWN_ANSWER_MAX_NEW_TOKENS
from workers.jobs.score_cache import DbScoreCache


def generate_own_answers(ctx: JobContext) -> dict[str, Any]:
    from workers.modeling import ModelLoadError, load_target
    from workers.scoring.answers import AUTO, check_answer
    from workers.scoring.own_answers import generate_own_answers as generate
    from workers.scoring.prompts import PromptBuilder

    model_name, questions = _questions(ctx.project_id)
    max_new = int(ctx.spec.get("max_new_tokens", OWN_ANSWER_MAX_NEW_TOKENS))
    ctx.progress("loading the model", 0, len(questions), force=True)
    try:
        target = load_target(model_name, cache_dir=get_settings().models_dir)
    except ModelLoadError as exc:
        raise JobFailure(str(exc)) from exc
    builder = PromptBuilder(target.tokenizer)
    ctx.progress("generating answers", 0, len(questions), force=True)
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        rate = done / max(time.monotonic() - started, 1e-6)
        eta = (total - done) / rate if rate else None
        ctx.progress("generating answers", done, total, {"answers_per_s": rate, "eta_s": eta})

    pool = [(str(qid), text, gold) for qid, text, gold in questions]
    # Through the text cache: a later SPPL scan with the same model reuses these answers.
    texts, _ = generate(target, builder, pool, max_new_tokens=max_new, cache=DbScoreCache(),
                        on_progress=progress)  # fmt: skip
    answers = {  # each question by its own answer type
        qid: (text, check_answer(AUTO, question, text, gold) if gold else None)
        for (qid, question, gold), text in zip(questions, texts, strict=True)
    }
    settings_key = f"zero-shot|greedy|max_new={max_new}|{target.dtype}"
    _store(ctx, target.model_key, target.name, settings_key, answers)
    correct = sum(1 for _, ok in answers.values() if ok)
    return {"summary": f"{len(answers)} own answers, {correct} correct.",
            "answers": len(answers), "correct": correct}  # fmt: skip


def _questions(project_id: int | None) -> tuple[str, list[tuple[int, str, str | None]]]:
    with session_scope() as session:
        project = session.get(Project, project_id)
        if project is None:
            raise JobFailure(f"project {project_id} no longer exists")
        rows = session.execute(
            select(Question.id, Question.text, Question.gold)
            .where(Question.project_id == project_id).order_by(Question.position)
        ).all()  # fmt: skip
        return project.target_model, [tuple(r) for r in rows]  # type: ignore[misc]


def _store(ctx: JobContext, model_key: str, model_name: str, settings_key: str,
           answers: dict[int, tuple[str, bool | None]]) -> None:  # fmt: skip
    with session_scope() as session:
        save_own_answers(session, model_key=model_key, settings_key=settings_key, answers=answers)
        store_as_strategy(session, project_id=ctx.project_id or 0,
                          name=str(ctx.spec.get("strategy", "target_own_answers")),
                          answers=answers, model_name=model_name)  # fmt: skip
        job = create_job(session, kind="analyze", project_id=ctx.project_id, spec={})
        session.commit()
        enqueue(job)
