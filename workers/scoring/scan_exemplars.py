"""The scan's own answers and SPPL's style examples: the target answers the pool (generated
or cached, with progress and the decoder's expected time left), the answers are checked,
and the examples for each sampled question are chosen (``workers.scoring.exemplars``)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from app.specs.scan import ScanInputError
from workers.scoring.exemplars import ExemplarPlan, NoExemplarsError, select_exemplars
from workers.scoring.own_answers import (
    Question,
    check_answers,
    generate_own_answers,
    has_gold,
    pool_questions,
)

if TYPE_CHECKING:
    from workers.scoring.scan import _Context as ScanContext


def exemplars(ctx: ScanContext, questions: Sequence[Question]) -> ExemplarPlan:
    """Own answers to the pool (generated or cached), checked, then the exemplar plan."""
    spec = ctx.spec
    need_gold = spec.filter_correct and any(has_gold(q[2]) for q in questions)
    pool = pool_questions(questions, spec.pool, need_gold=need_gold)
    if len(pool) < spec.pool:
        ctx.result.warnings.append(f"SPPL pool has {len(pool)} questions ({spec.pool} asked)")
    start = time.perf_counter()
    meter = _GenerationMeter(ctx, len(pool))
    ctx.report("generating", 0, len(pool), {})
    texts, generated = generate_own_answers(
        ctx.target,
        ctx.builder,
        pool,
        max_new_tokens=spec.max_new_tokens,
        cache=ctx.cache,
        on_progress=meter.answers,
        on_expected=meter.expected,
    )
    ctx.result.timings["generating"] = time.perf_counter() - start
    ctx.result.counts["generated"] = generated
    ctx.result.counts["generating items"] = len(pool)
    ctx.result.counts["generating cached"] = len(pool) - generated
    return _plan_exemplars(ctx, pool, texts, need_gold)


class _GenerationMeter:
    """Progress of the own answers: per answer, with the decoder's expected time left
    (``eta_live``: measured in this phase, ``app.jobs.eta`` takes it as it is), reported
    between answers too, at most once a second."""

    def __init__(self, ctx: ScanContext, total: int) -> None:
        self.ctx, self.total, self.done = ctx, total, 0
        self.extra: dict[str, Any] = {}
        self.last = 0.0

    def answers(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        self.ctx.report("generating", done, total, dict(self.extra))

    def expected(self, seconds: float) -> None:
        self.extra = {"eta_s": seconds, "eta_live": True}
        now = time.monotonic()
        if now - self.last >= 1.0:
            self.last = now
            self.ctx.report("generating", self.done, self.total, dict(self.extra))


def _plan_exemplars(
    ctx: ScanContext, pool: Sequence[Question], texts: Sequence[str], need_gold: bool
) -> ExemplarPlan:
    own = check_answers(pool, texts, ctx.judge)
    ctx.result.own_answers = {a.key: {"text": a.text, "correct": a.correct} for a in own}
    try:
        plan = select_exemplars(
            ctx.result.sample,
            own,
            ctx.spec.examples,
            filter_correct=ctx.spec.filter_correct and need_gold,
            allow_unfiltered_fallback=ctx.spec.allow_unfiltered_fallback,
        )
    except NoExemplarsError as exc:
        raise ScanInputError(str(exc)) from None
    if ctx.spec.filter_correct and not need_gold:
        ctx.result.warnings.append("no gold answers: SPPL examples are unfiltered own answers")
    ctx.result.warnings.extend(plan.warnings)
    ctx.result.exemplars, ctx.result.exemplar_sources = plan.examples, plan.sources
    ctx.result.settings["exemplars_filtered"] = plan.filtered
    ctx.result.counts["own_correct"] = sum(1 for a in own if a.correct)
    return plan
