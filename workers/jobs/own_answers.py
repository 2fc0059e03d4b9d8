"""Generate the target model's own zero-shot answers and add them as a strategy."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import session_scope
from app.jobs.lifecycle import create_job
from app.models import Project, Question
from app.services.demo import start_demo_scan
from app.services.own_answers import save_own_answers, store_as_strategy
from app.specs.jobs import OwnAnswersSpec
from workers.jobs.context import JobContext, JobFailure
from workers.jobs.score_cache import DbScoreCache


def generate_own_answers(ctx: JobContext) -> dict[str, Any]:
    from workers.modeling import ModelLoadError, load_target
    from workers.scoring.answers import AUTO, check_answer
    from workers.scoring.own_answers import generate_own_answers as generate
    from workers.scoring.prompts import PromptBuilder

    spec: OwnAnswersSpec = ctx.spec
    model_name, questions = _questions(ctx.project_id)
    questions = questions[: spec.limit] if spec.limit else questions
    max_new = spec.max_new_tokens
    ctx.progress("loading the model", 0, len(questions), force=True)
    try:
        target = load_target(model_name, cache_dir=get_settings().models_dir)
    except ModelLoadError as exc:
        raise JobFailure(str(exc)) from exc
    builder = PromptBuilder(target.tokenizer)
    ctx.progress("generating answers", 0, len(questions), force=True)
    started, first, state = time.monotonic(), [], {"done": 0, "total": len(questions)}

    def report(eta: float | None) -> None:
        done, total = state["done"], state["total"]
        new = done - (first[0] if first else 0)
        rate = new / max(time.monotonic() - started, 1e-6) if new else None
        ctx.progress(
            "generating answers",
            done,
            total,
            {"answers_per_s": rate, "eta_s": eta, "cached": first[0] if first else 0},
        )

    def progress(done: int, total: int) -> None:
        """Per answer; the rate counts only answers generated now (not cached ones)."""
        first.append(done) if not first else None
        state.update(done=done, total=total)
        report(state.get("eta"))

    def eta(seconds: float) -> None:
        """Every decoding step: the upper bound of the time left (and a cancel check)."""
        state["eta"] = seconds
        report(seconds)

    pool = [(str(qid), text, gold) for qid, text, gold in questions]
    # Through the text cache: a later SPPL scan with the same model reuses these answers.
    gen_started = time.monotonic()
    texts, generated = generate(target, builder, pool, max_new_tokens=max_new,
                                cache=DbScoreCache(), on_progress=progress,
                                on_eta=eta)  # fmt: skip
    generating_s = time.monotonic() - gen_started
    answers = {  # each question by its own answer type
        qid: (text, check_answer(AUTO, question, text, gold) if gold else None)
        for (qid, question, gold), text in zip(questions, texts, strict=True)
    }
    settings_key = f"zero-shot|greedy|max_new={max_new}|{target.dtype}"
    correct = sum(1 for _, ok in answers.values() if ok)
    result = {"summary": f"{len(answers)} own answers, {correct} correct.",
              "answers": len(answers), "correct": correct, "generated": generated,
              "generating_s": round(generating_s, 3), "model": model_name}  # fmt: skip
    ctx.save(lambda session: _store(session, ctx.project_id, spec.strategy, target.model_key,
                                    target.name, settings_key, answers), result)  # fmt: skip
    return result


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


def _store(session: Session, project_id: int | None, strategy: str, model_key: str,
           model_name: str, settings_key: str,
           answers: dict[int, tuple[str, bool | None]]) -> None:  # fmt: skip
    save_own_answers(session, model_key=model_key, settings_key=settings_key, answers=answers)
    store_as_strategy(session, project_id=project_id or 0, name=strategy, answers=answers,
                      model_name=model_name)  # fmt: skip
    create_job(session, kind="analyze", project_id=project_id)  # sent after the commit
    start_demo_scan(session, project_id=project_id or 0)  # the demo's first scan, by itself
