"""The llm_judge job: a local or Hugging Face instruct model judges a project's answers.

Spec: ``{"model": name or path, "limit": at most this many responses (default all),
"strategy_ids": optional list}``. Verdicts go to the judgements table under the judge name
``llm:<model>``, beside the rule judge's (they do not replace the responses' ``correct``).
The pure two-step procedure is ``workers.judging.llm``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.backends import DEFAULT_BACKEND
from app.config import get_settings
from app.db import session_scope
from app.models import Question, Response, Strategy
from app.services.judgements import store_judgements
from app.specs.jobs import LlmJudgeSpec
from workers.jobs.context import JobContext, JobFailure

PHASE = "judging answers"
CHUNK = 64


def llm_judge(ctx: JobContext) -> dict[str, Any]:
    from workers.backends import load_backend
    from workers.judging.llm import LlmItem, judge_with_llm, model_generate
    from workers.modeling import ModelLoadError

    model_name = ctx.spec.model.strip()
    if not model_name:
        raise JobFailure("the LLM judge needs a model (a Hugging Face id or a local path)")
    rows = _rows(ctx.project_id, ctx.spec)
    ctx.progress("loading the model", 0, len(rows), force=True)
    try:
        target = load_backend(DEFAULT_BACKEND, model_name, cache_dir=get_settings().models_dir)
    except ModelLoadError as exc:
        raise JobFailure(str(exc)) from exc
    generate = model_generate(target)
    judge, correct = f"llm:{model_name}"[:200], 0
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        items = [LlmItem(q, r, g) for _, _, q, r, g in chunk]
        judged = [j.as_dict() for j in judge_with_llm(items, generate, model=model_name)]
        correct += sum(1 for j in judged if j["verdict"])
        with session_scope() as session:
            store_judgements(
                session,
                judge=judge,
                set_correct=False,
                rows=[(rid, qid, j) for (rid, qid, *_), j in zip(chunk, judged, strict=True)],
                gold={qid: g for _, qid, _, _, g in chunk},
            )
        ctx.progress(PHASE, start + len(chunk), len(rows))
    return {
        "summary": f"{judge} judged {len(rows)} answers, {correct} correct.",
        "judge": judge,
        "answers": len(rows),
        "correct": correct,
    }


def _rows(project_id: int | None, spec: LlmJudgeSpec) -> list[tuple[int, int, str, str, str]]:
    """(response id, question id, question, response, gold) of answers with a gold."""
    query = (
        select(Response.id, Question.id, Question.text, Response.text, Question.gold)
        .join(Question, Question.id == Response.question_id)
        .join(Strategy, Strategy.id == Response.strategy_id)
        .where(Strategy.project_id == project_id, Question.gold.is_not(None))
        .order_by(Question.position, Strategy.id)
    )
    if spec.strategy_ids:
        query = query.where(Strategy.id.in_(spec.strategy_ids))
    if spec.limit:
        query = query.limit(spec.limit)
    with session_scope() as session:
        return [tuple(r) for r in session.execute(query).all()]  # type: ignore[misc]
