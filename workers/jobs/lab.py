"""The ``lab_sample`` job: a sample's answers from each recipe's teacher (or rule).

Thin: the plan comes from ``app.lab.plan`` (prompts rendered, tokens counted, keys
decrypted here and nowhere else), the calls from ``workers.lab.engine``; answers and faults
are written as they arrive (``workers.lab.store``), so a cancelled or killed job keeps them
and a resumed one reuses them. Progress carries the spend so far; the result gives counts,
spend and flags per recipe version, the faults by kind and why the run stopped early.
"""

from __future__ import annotations

import asyncio
from typing import Any

from app.config import get_settings
from app.db import session_scope
from app.lab.budget import run_limit
from app.lab.plan import Plan, plan_sample
from app.lab.secrets import KeyUnreadable
from app.lab.types import RunReport
from app.services.errors import BadInput
from app.specs.lab import LabSampleSpec
from workers.jobs.context import JobContext, JobFailure
from workers.lab.engine import EngineConfig, generate
from workers.lab.local import LocalTeacher, LocalTeacherError
from workers.lab.store import DbStore

PHASE = "generating"


def _plan(ctx: JobContext, spec: LabSampleSpec) -> Plan:
    try:
        with session_scope() as session:
            return plan_sample(
                session,
                project_id=ctx.project_id,  # type: ignore[arg-type]
                version_ids=spec.recipe_version_ids,
                question_ids=spec.question_ids,
                decrypt=True,
            )
    except (BadInput, KeyUnreadable) as exc:
        raise JobFailure(str(exc)) from None


def _config(ctx: JobContext, spec: LabSampleSpec) -> EngineConfig:
    """Limits from settings and the spec; the budget is the tighter of the run's and what
    the project's leaves, and what this job spent on an earlier try counts against it."""
    settings = get_settings()
    with session_scope() as session:
        limit = run_limit(
            session,
            project_id=ctx.project_id,  # type: ignore[arg-type]
            job_id=ctx.job_id,
            run_budget=spec.budget,
        )
    return EngineConfig(
        timeout_s=spec.timeout_s or settings.lab_request_timeout_s,
        max_retries=spec.max_retries if spec.max_retries is not None else settings.lab_max_retries,
        backoff_s=spec.backoff_s,
        budget=limit.cap,
        spent_before=limit.spent_before,
        budget_named=limit.named,
        concurrency=spec.concurrency,
    )


def run_lab_sample(ctx: JobContext) -> dict[str, Any]:
    spec: LabSampleSpec = ctx.spec
    plan = _plan(ctx, spec)
    store = DbStore(project_id=ctx.project_id, job_id=ctx.job_id)  # type: ignore[arg-type]
    rules_new = sum(store.save_rule_answer(rule) for rule in plan.rules)
    total = len(plan.requests) + len(plan.rules)

    config = _config(ctx, spec)

    def on_progress(report: RunReport) -> None:
        spent = round(config.spent_before + report.spent, 6)
        ctx.progress(
            PHASE,
            report.done + len(plan.rules),
            total,
            {"spent": spent, "faults": dict(report.faults)},
        )

    # the heartbeat runs around the handler (workers.tasks.execute): it carries the cancel
    local = LocalTeacher(cache_dir=get_settings().models_dir)
    report = asyncio.run(generate(plan.requests, store, config, on_progress, local=local))
    if isinstance(report.error, LocalTeacherError):
        raise JobFailure(str(report.error)) from None
    if report.error is not None:
        raise report.error
    result = summary(plan, report, rules_new, spent_before=config.spent_before)
    ctx.save(lambda _session: None, result)
    return result


def summary(
    plan: Plan, report: RunReport, rules_new: int, spent_before: float = 0.0
) -> dict[str, Any]:
    recipes = []
    for vid, label in plan.labels.items():
        row = report.per_recipe.get(vid) or report.recipe(vid)
        rules = sum(1 for r in plan.rules if r.recipe_version_id == vid)
        recipes.append({"recipe_version_id": vid, "recipe": label, "rule_answers": rules, **row})
    answered = report.answered + report.cached + len(plan.rules)
    spent = spent_before + report.spent  # the job's spend, earlier tries included
    text = f"{answered} of {report.total + len(plan.rules)} answers, spent {spent:.4f}"
    if report.missing:
        text += f"; {report.missing} missing after retries"
    if report.stopped == "budget":
        text += f"; {report.budget_message}"
    return {
        "summary": text + ".",
        "answered": report.answered,
        "cached": report.cached,
        "rule_answers": len(plan.rules),
        "rule_answers_new": rules_new,
        "missing": report.missing,
        "skipped_budget": report.skipped_budget,
        "spent": spent,
        "spent_this_try": report.spent,
        "stopped": report.stopped,
        "budget_message": report.budget_message,
        "faults": dict(report.faults),
        "recipes": recipes,
    }
