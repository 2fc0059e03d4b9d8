"""The token_surprise job: per-token log-probabilities of one question's responses in a scan.

Spec: ``TokenSurpriseSpec`` (scan and question); the result goes to the ``token_surprises``
row of that scan and question, in the transaction that marks the job succeeded. The target is
loaded as the scan loaded it (model reference, the dtype it ran in, the models folder) and
the prompts are the scan's (template mode, PPL prompt, SPPL prompt with the examples stored
in the scan summary), so the values agree with the scan's stored PPL / SPPL. The pure computation is
``workers.scoring.token_surprise``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.backends import DEFAULT_BACKEND
from app.config import get_settings
from app.db import session_scope
from app.models import Question, Response, Scan
from app.services.token_surprise import store_token_surprise
from app.specs.jobs import TokenSurpriseSpec
from workers.jobs.context import JobContext, JobFailure

PHASE = "scoring tokens"


@dataclass(frozen=True)
class SurpriseInputs:
    model_name: str
    model_key: str
    dtype: str
    template: str
    max_length: int | None
    question: str
    examples: list[str] | None  # None: the scan did not score SPPL
    responses: dict[str, str]  # strategy id (str) -> response text
    backend: str = DEFAULT_BACKEND  # the scan's


def token_surprise(ctx: JobContext) -> dict[str, Any]:
    from workers.backends import load_backend
    from workers.modeling import ModelLoadError
    from workers.scoring.prompts import PromptBuilder, PromptError
    from workers.scoring.token_surprise import compute_token_surprise, context_prompts

    inputs = _inputs(ctx)
    total = len(inputs.responses) * (2 if inputs.examples is not None else 1)
    ctx.progress("loading the model", 0, total, force=True)
    try:
        target = load_backend(
            inputs.backend,
            inputs.model_name,
            cache_dir=get_settings().models_dir,
            dtype=inputs.dtype,
        )
        builder = PromptBuilder(target.tokenizer, inputs.template)  # type: ignore[arg-type]
    except (ModelLoadError, PromptError) as exc:
        raise JobFailure(str(exc)) from exc
    if inputs.model_key and target.model_key != inputs.model_key:
        ctx.log(f"the weights differ from the scan's ({target.model_key} != {inputs.model_key})")
    ctx.progress(PHASE, 0, total, force=True)
    prompts = context_prompts(builder, inputs.question, inputs.examples)
    result = compute_token_surprise(
        target,
        builder,
        prompts,
        inputs.responses,
        max_length=inputs.max_length,
        on_progress=lambda done, n: ctx.progress(PHASE, done, n),
    )
    contexts = {c: {k: s.to_json() for k, s in per.items()} for c, per in result.items()}
    model = {"name": target.name, "model_key": target.model_key, "dtype": target.dtype}
    summary = {
        "summary": f"Per-token surprise of {len(inputs.responses)} responses "
        f"({', '.join(c.upper() for c in contexts)})."
    }
    spec: TokenSurpriseSpec = ctx.spec
    ctx.save(
        lambda session: store_token_surprise(
            session,
            scan_id=spec.scan_id,
            question_id=spec.question_id,
            job_id=ctx.job_id,
            contexts=contexts,
            model=model,
        ),
        summary,
    )
    return summary


def _inputs(ctx: JobContext) -> SurpriseInputs:
    scan_id, question_id = ctx.spec.scan_id, ctx.spec.question_id
    with session_scope() as session:
        scan = session.get(Scan, scan_id)
        question = session.get(Question, question_id)
        if scan is None or scan.project_id != ctx.project_id:
            raise JobFailure(f"scan {scan_id} no longer exists")
        if question is None or question.project_id != scan.project_id:
            raise JobFailure(f"question {question_id} no longer exists")
        summary, spec = scan.summary or {}, scan.spec or {}
        rows = session.execute(
            select(Response.strategy_id, Response.text)
            .where(
                Response.question_id == question_id,
                Response.strategy_id.in_(list(spec.get("strategy_ids") or [])),
            )
            .order_by(Response.strategy_id)
        ).all()
        if not rows:
            raise JobFailure(f"no strategy of scan {scan_id} answered question {question_id}")
        return SurpriseInputs(
            model_name=scan.model_name,
            model_key=scan.model_key,
            dtype=(summary.get("model") or {}).get("dtype") or spec.get("dtype", "auto"),
            template=spec.get("template", "chat"),
            max_length=spec.get("max_length"),
            question=question.text,
            examples=_examples(spec, summary, question_id),
            responses={str(sid): text for sid, text in rows},
            backend=spec.get("backend", DEFAULT_BACKEND),
        )


def _examples(spec: dict[str, Any], summary: dict[str, Any], question_id: int) -> list[str] | None:
    """The SPPL examples the scan used for this question; None when it did not score SPPL."""
    examples = (summary.get("exemplars") or {}).get(str(question_id))
    if "sppl" not in spec.get("metrics", []) or examples is None:
        return None
    return [str(e) for e in examples]
