"""Generate the target model's own zero-shot answers and add them as a strategy."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.backends import settings_key_suffix
from app.config import get_settings
from app.db import session_scope
from app.models import Project, Question
from app.services.own_answers import save_own_answers, store_as_strategy
from app.specs.jobs import OwnAnswersSpec
from workers.jobs.context import JobContext, JobFailure
from workers.jobs.score_cache import DbScoreCache


def generate_own_answers(ctx: JobContext) -> dict[str, Any]:
    from workers.scoring.answers import AUTO, check_answer
    from workers.scoring.own_answers import generate_own_answers as generate
    from workers.scoring.prompts import PromptBuilder

    spec: OwnAnswersSpec = ctx.spec
    model_name, questions = _questions(ctx.project_id)
    questions = questions[: spec.limit] if spec.limit else questions
    target = _load(ctx, model_name, len(questions), spec.backend)
    ctx.progress("generating answers", 0, len(questions), force=True)
    pool = [(str(qid), text, gold) for qid, text, gold in questions]
    meter, started = _Meter(ctx, len(questions)), time.monotonic()
    # Through the text cache: a later SPPL scan with the same model reuses these answers.
    texts, generated = generate(
        target,
        PromptBuilder(target.tokenizer),
        pool,
        max_new_tokens=spec.max_new_tokens,
        cache=DbScoreCache(),
        on_progress=meter.progress,
        on_expected=meter.expected,
    )
    answers = {  # each question by its own answer type
        qid: (text, check_answer(AUTO, question, text, gold) if gold else None)
        for (qid, question, gold), text in zip(questions, texts, strict=True)
    }
    correct = sum(1 for _, ok in answers.values() if ok)
    result = {
        "summary": f"{len(answers)} own answers, {correct} correct.",
        "answers": len(answers),
        "correct": correct,
        "generated": generated,
        "generating_s": round(time.monotonic() - started, 3),
        "model": model_name,
    }
    key = own_answers_settings_key(spec.max_new_tokens, target.dtype, target.tag)
    ctx.save(
        lambda s: _store(
            s, ctx.project_id, spec.strategy, target.model_key, target.name, key, answers
        ),
        result,
    )
    return result


def own_answers_settings_key(max_new_tokens: int, dtype: str, tag: str) -> str:
    """What the stored own answers are keyed by besides question and model (the backend's
    tag where it is not the implicit one, ``app.backends.settings_key_suffix``)."""
    return f"zero-shot|greedy|max_new={max_new_tokens}|{dtype}{settings_key_suffix(tag)}"


def _load(ctx: JobContext, model_name: str, n: int, backend: str) -> Any:
    """The backend the spec names (``OwnAnswersSpec.backend``) serving the target."""
    from workers.backends import load_backend
    from workers.modeling import ModelLoadError

    ctx.progress("loading the model", 0, n, force=True)
    try:
        return load_backend(backend, model_name, cache_dir=get_settings().models_dir)
    except ModelLoadError as exc:
        raise JobFailure(str(exc)) from exc


class _Meter:
    """Progress per answer, with the rate of the answers generated now (cached ones do not
    count) and the decoder's expected time left (``workers.scoring.decoding_eta``; every
    decoding step, which is also a cancel check). It is measured in this phase
    (``eta_live``), so the page shows it as it is (``app.jobs.eta``)."""

    def __init__(self, ctx: JobContext, total: int) -> None:
        self.ctx, self.done, self.total = ctx, 0, total
        self.started, self.first, self.eta_s = time.monotonic(), None, None

    def report(self) -> None:
        cached = self.first or 0
        new = self.done - cached
        rate = new / max(time.monotonic() - self.started, 1e-6) if new else None
        extra = {"answers_per_s": rate, "eta_s": self.eta_s, "cached": cached}
        if self.eta_s is not None:
            extra["eta_live"] = True
        self.ctx.progress("generating answers", self.done, self.total, extra)

    def progress(self, done: int, total: int) -> None:
        self.first = done if self.first is None else self.first
        self.done, self.total = done, total
        self.report()

    def expected(self, seconds: float) -> None:
        self.eta_s = seconds
        self.report()


def _questions(project_id: int | None) -> tuple[str, list[tuple[int, str, str | None]]]:
    with session_scope() as session:
        project = session.get(Project, project_id)
        if project is None:
            raise JobFailure(f"project {project_id} no longer exists")
        rows = session.execute(
            select(Question.id, Question.text, Question.gold)
            .where(Question.project_id == project_id)
            .order_by(Question.position)
        ).all()
        return project.target_model, [tuple(r) for r in rows]  # type: ignore[misc]


def _store(
    session: Session,
    project_id: int | None,
    strategy: str,
    model_key: str,
    model_name: str,
    settings_key: str,
    answers: dict[int, tuple[str, bool | None]],
) -> None:
    save_own_answers(session, model_key=model_key, settings_key=settings_key, answers=answers)
    store_as_strategy(
        session, project_id=project_id or 0, name=strategy, answers=answers, model_name=model_name
    )
    # what follows (token counts, the demo's first scan) is app.pipelines' "own answers"
