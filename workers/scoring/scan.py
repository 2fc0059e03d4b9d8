"""A familiarity scan: ``run_scan(spec, target, questions, responses, ...) -> ScanResult``.

Steps: validate (``ScanInputError`` before any heavy work) -> sample the questions answered by
every strategy (seeded, the same for all strategies) -> for SPPL: own answers to the pool,
checked, exemplars chosen -> score each needed component (PPL prompt, SPPL prompt, response
alone) with the batched scorer, reusing and filling ``cache`` -> per-question values ->
per strategy x metric aggregates (``app.stats.summary.summarize``) and ranks (1 = lowest =
most familiar).

``questions``: [(question key, question text, gold or None)] in a stable order.
``responses``: {strategy: {question key: response text}}.
``cache``: optional, ``get_many(keys)`` / ``put_many({key: (sum_nll, n_tokens, truncated)})``
(called after every scored batch, so a killed scan resumes), optionally ``get_texts`` /
``put_texts`` for own answers. ``on_progress(phase, done, total, extra)``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.metrics.registry import SCORING_PHASE, all_metrics, get_metric
from app.specs.scan import ScanInputError, ScanSpec
from workers.backends.base import ModelBackend
from workers.backends.transformers import as_backend
from workers.modeling.loader import Target
from workers.scoring.answers import UnknownJudgeError, answer_verdict, check_judge_name
from workers.scoring.cache import score_key
from workers.scoring.exemplars import ExemplarPlan
from workers.scoring.grace import gradient_needs
from workers.scoring.items import ScoreItem, ScoreResult, planned_tokens
from workers.scoring.metrics import Example, aggregate, computable, compute, rank_strategies
from workers.scoring.own_answers import Question, has_gold
from workers.scoring.prompts import PromptBuilder
from workers.scoring.result import ScanResult
from workers.scoring.sampling import (  # sample_questions: the scan's public helpers too
    sample_questions,
    sample_sets,
    shared_questions,
)
from workers.scoring.scan_exemplars import exemplars

__all__ = ["ScanResult", "run_scan", "sample_questions", "sample_sets", "shared_questions"]

ScanProgress = Callable[[str, int, int, dict[str, Any]], None]
# The scored prompt each need of the metric registry stands for (app.metrics.registry.NEEDS).
COMPONENT_OF_NEED = {"ppl_prompt": "ppl", "sppl_prompt": "sppl", "alone": "alone"}
NEED_OF_COMPONENT = {c: n for n, c in COMPONENT_OF_NEED.items()}
COMPONENT_PHASE = {c: SCORING_PHASE[n] for n, c in COMPONENT_OF_NEED.items()}


@dataclass
class _Context:
    """State shared by the steps of one scan."""

    spec: ScanSpec
    target: ModelBackend
    builder: PromptBuilder
    texts: dict[str, str]
    golds: dict[str, str | None]
    judge: str
    limit: int
    cache: Any
    report: ScanProgress
    result: ScanResult
    # strategy -> question key -> (verdict, source): the stored verdicts (judge, file or
    # human); a response without one is judged here with ``judge``
    verdicts: Mapping[str, Mapping[str, tuple[bool | None, str]]] | None = None


def run_scan(
    spec: ScanSpec,
    target: ModelBackend | Target,
    questions: Sequence[Question],
    responses: Mapping[str, Mapping[str, str]],
    *,
    on_progress: ScanProgress | None = None,
    cache: Any = None,
    verdicts: Mapping[str, Mapping[str, tuple[bool | None, str]]] | None = None,
) -> ScanResult:
    """Run a familiarity scan (see the module docstring). ``verdicts``: stored verdicts and
    their sources, used for the correct shares in place of judging again (responses without
    one are judged)."""
    started = time.perf_counter()
    ctx = _prepare(spec, as_backend(target), questions, responses, on_progress, cache)
    ctx.verdicts = verdicts
    plan = exemplars(ctx, questions) if "own_answers" in _needs(spec) else None
    scored = {c: _score_component(ctx, c, responses, plan) for c in _components(spec)}
    computed = gradient_needs(ctx, responses) if "gradients" in _needs(spec) else {}
    _collect(ctx, responses, scored, computed)
    ctx.result.timings["total"] = time.perf_counter() - started
    ctx.report("done", 1, 1, {})
    return ctx.result


def _needs(spec: ScanSpec) -> set[str]:
    """What the asked metrics need from the model (``app.metrics.registry.NEEDS``)."""
    return {n for m in spec.metrics for n in get_metric(m).needs}


def _components(spec: ScanSpec) -> list[str]:
    """The prompts to score, in a fixed order (ppl, sppl, alone)."""
    needs = _needs(spec)
    return [c for n, c in COMPONENT_OF_NEED.items() if n in needs]


def computed_metrics(spec: ScanSpec, components: set[str]) -> list[str]:
    """The asked metrics, then every descriptive one the scored prompts already cover."""
    scored = {NEED_OF_COMPONENT[c] for c in components}
    extra = [
        m.name
        for m in all_metrics()
        if m.role == "descriptive"
        and m.name not in spec.metrics
        and all(n in scored for n in m.needs)
    ]
    return [*spec.metrics, *extra]


def _prepare(
    spec: ScanSpec,
    target: ModelBackend,
    questions: Sequence[Question],
    responses: Mapping[str, Mapping[str, str]],
    on_progress: ScanProgress | None,
    cache: Any,
) -> _Context:
    """Validate everything cheap, sample the questions, build the context."""
    builder = _builder(spec, target)
    texts, golds = _question_maps(questions)
    shared = shared_questions([q[0] for q in questions], responses)
    wanted = spec.sample * spec.samples
    if wanted > len(shared):
        asked = f"{spec.samples} x {spec.sample}" if spec.samples > 1 else str(spec.sample)
        raise ScanInputError(
            f"sample: {asked} questions requested but only {len(shared)} are answered "
            f"by all {len(responses)} strategies"
        )
    judge = _resolve_judge(spec, questions)
    sets = sample_sets(shared, spec.sample, spec.samples, spec.seed)
    chosen = {k for s in sets for k in s}
    result = ScanResult(
        settings={**spec.to_dict(), "judge_resolved": judge},
        model=target.describe(),
        sample=[k for k in shared if k in chosen],
        samples=sets if spec.samples > 1 else [],
    )
    report = on_progress or (lambda *_: None)
    limit = target.max_length(spec.max_length)
    if "gradients" in _needs(spec) and not hasattr(target, "projected_gradients"):
        raise ScanInputError(f"metrics: the {target.kind} backend cannot compute gradients")
    return _Context(spec, target, builder, texts, golds, judge, limit, cache, report, result)


def _builder(spec: ScanSpec, target: ModelBackend) -> PromptBuilder:
    if spec.dtype != "auto" and spec.dtype != target.dtype:
        raise ScanInputError(f"dtype: the scan asks for {spec.dtype}, the target is {target.dtype}")
    if spec.template == "chat" and not target.has_chat_template:
        raise ScanInputError(
            f"template: {target.name} has no chat template; use template 'inst' "
            "(the reference [INST] wrapping) or a model with a chat template"
        )
    return PromptBuilder(target.tokenizer, spec.template)  # type: ignore[arg-type]


def _question_maps(
    questions: Sequence[Question],
) -> tuple[dict[str, str], dict[str, str | None]]:
    texts: dict[str, str] = {}
    golds: dict[str, str | None] = {}
    for key, text, gold in questions:
        if key in texts:
            raise ScanInputError(f"questions: key {key!r} appears twice")
        texts[key], golds[key] = text, gold
    return texts, golds


def _resolve_judge(spec: ScanSpec, questions: Sequence[Question]) -> str:
    judge = spec.judge  # "auto": each question by its own answer type (workers.judging)
    try:
        check_judge_name(judge)
    except UnknownJudgeError as exc:
        raise ScanInputError(f"judge: {exc}") from None
    strict = (
        "own_answers" in _needs(spec) and spec.filter_correct and not spec.allow_unfiltered_fallback
    )
    if strict and not any(has_gold(q[2]) for q in questions):
        raise ScanInputError(
            "SPPL's correctness filter needs gold answers and no question has one; "
            "switch the filter off or allow the unfiltered fallback"
        )
    return judge


@dataclass(frozen=True)
class _Job:
    strategy: str
    key: str
    cache_key: str
    item: ScoreItem


def _prefix_text(ctx: _Context, component: str, key: str, plan: ExemplarPlan | None) -> str:
    question = ctx.texts[key]
    if component == "ppl":
        return ctx.builder.ppl_prompt(question)
    if component == "sppl":
        return ctx.builder.sppl_prompt(question, plan.examples[key] if plan else [])
    return ctx.builder.alone_prefix_text()


def _jobs(
    ctx: _Context, component: str, responses: Mapping[str, Mapping[str, str]], plan: Any
) -> list[_Job]:
    """One job per (strategy, sampled question) of a component."""
    b, spec, jobs = ctx.builder, ctx.spec, []
    for key in ctx.result.sample:
        prefix_text = _prefix_text(ctx, component, key, plan)
        prefix_ids = b.alone_prefix_ids() if component == "alone" else b.prompt_ids(prefix_text)
        for strategy, answers in responses.items():
            text = answers[key]
            ids = b.alone_response_ids(text) if component == "alone" else b.response_ids(text)
            cache_key = score_key(
                component,
                ctx.target.model_key,
                ctx.target.dtype,
                spec.template,
                ctx.limit,
                prefix_text,
                text,
                ctx.target.tag,
            )
            jobs.append(_Job(strategy, key, cache_key, ScoreItem(prefix_ids, ids)))
    return jobs


def _from_cache(value: tuple[float, int, bool]) -> ScoreResult:
    sum_nll, n_tokens, truncated = value
    return ScoreResult(sum_nll, n_tokens, truncated, empty=n_tokens == 0 and not truncated)


def _score_component(
    ctx: _Context, component: str, responses: Mapping[str, Mapping[str, str]], plan: Any
) -> dict[tuple[str, str], ScoreResult]:
    """Scores of every (strategy, question) for one component, cache first."""
    jobs = _jobs(ctx, component, responses, plan)
    unique = {job.cache_key: job.item for job in jobs}
    known = {
        k: _from_cache(v)
        for k, v in (ctx.cache.get_many(list(unique)) if ctx.cache else {}).items()
    }
    todo = [k for k in unique if k not in known]
    known.update(_score_missing(ctx, component, todo, unique, len(known)))
    ctx.result.counts["scored_items"] = ctx.result.counts.get("scored_items", 0) + len(todo)
    ctx.result.counts["cached_items"] = (
        ctx.result.counts.get("cached_items", 0) + len(unique) - len(todo)
    )
    return {(job.strategy, job.key): known[job.cache_key] for job in jobs}


def _score_missing(
    ctx: _Context, component: str, todo: list[str], unique: dict[str, ScoreItem], cached: int
) -> dict[str, ScoreResult]:
    phase, start = COMPONENT_PHASE[component], time.perf_counter()
    total = cached + len(todo)
    work = planned_tokens([unique[k] for k in todo], ctx.limit)  # app.jobs.eta's unit
    extra0 = {"cached": cached, "tokens": 0, "tokens_per_s": 0.0}
    ctx.report(phase, cached, total, {**extra0, "work_done": 0, "work_total": work})

    def progress(done: int, _total: int, tokens: int) -> None:
        rate = tokens / max(time.perf_counter() - start, 1e-9)
        extra = {"cached": cached, "tokens": tokens, "tokens_per_s": rate}
        ctx.report(phase, cached + done, total, {**extra, "work_done": tokens, "work_total": work})

    def store(batch: dict[int, ScoreResult]) -> None:
        if ctx.cache is not None:
            ctx.cache.put_many(
                {todo[i]: (r.sum_nll, r.n_tokens, r.truncated) for i, r in batch.items()}
            )

    results = ctx.target.score(
        [unique[k] for k in todo],
        max_length=ctx.limit,
        token_budget=ctx.spec.token_budget,
        on_progress=progress,
        on_batch=store,
    )
    ctx.result.timings[phase] = time.perf_counter() - start
    ctx.result.counts[f"{phase} items"] = total  # what a selector's model time is made of
    ctx.result.counts[f"{phase} cached"] = cached
    return dict(zip(todo, results, strict=True))


def _collect(
    ctx: _Context,
    responses: Mapping[str, Mapping[str, str]],
    scored: Mapping[str, Mapping[tuple[str, str], ScoreResult]],
    computed: Mapping[tuple[str, str], Mapping[str, Any]],
) -> None:
    """Per-question values, aggregates, ranks, correct shares, truncation warnings."""
    metrics = computed_metrics(ctx.spec, set(scored))
    for strategy, answers in responses.items():
        rows = [
            _rows(ctx, scored, computed.get((strategy, k), {}), metrics, strategy, k, answers[k])
            for k in ctx.result.sample
        ]
        ctx.result.values[strategy] = {m: [r[m] for r in rows] for m in metrics}
        ctx.result.aggregates[strategy] = {
            m: aggregate(ctx.result.values[strategy][m], m, seed=ctx.spec.seed) for m in metrics
        }
        ctx.result.correct_share[strategy] = _correct_share(ctx, strategy, answers)
    _rank(ctx.result, [m for m in metrics if get_metric(m).role == "familiarity"])
    _truncation_warnings(ctx.result)


def _rows(
    ctx: _Context,
    scored: Mapping[str, Mapping],
    computed: Mapping[str, Any],
    metrics: Sequence[str],
    strategy: str,
    key: str,
    text: str,
) -> dict[str, dict[str, Any]]:
    """Every metric's value row of one (strategy, question), by its registered compute."""
    scores = {NEED_OF_COMPONENT[c]: scored[c][(strategy, key)] for c in scored}
    example = Example(key, text, len(ctx.builder.alone_response_ids(text)), scores, computed)
    return {m: compute(m, example) for m in metrics if computable(m, scores, computed)}


def _rank(result: ScanResult, metrics: Sequence[str]) -> None:
    for metric in metrics:
        means = {s: agg[metric]["mean"] for s, agg in result.aggregates.items()}
        lower = get_metric(metric).lower_is_better
        for strategy, rank in rank_strategies(means, lower_is_better=lower).items():
            result.aggregates[strategy][metric]["rank"] = rank


def _correct_share(ctx: _Context, strategy: str, answers: Mapping[str, str]) -> dict[str, Any]:
    """Share correct over the sampled questions with a verdict; "not judged" answers (no
    fitting judge) are counted apart and left out; ``sources`` says whose verdicts count."""
    stored = (ctx.verdicts or {}).get(strategy) or {}
    found = {k: stored[k] for k in ctx.result.sample if k in stored}
    for k in [k for k in ctx.result.sample if k not in found and has_gold(ctx.golds.get(k))]:
        ok = answer_verdict(ctx.judge, ctx.texts[k], answers[k], str(ctx.golds[k]))
        found[k] = (ok, "judge" if ok is not None else "not_judged")
    known = {k: v for k, v in found.items() if v[0] is not None}
    sources: dict[str, int] = {}
    for _, source in known.values():
        sources[source] = sources.get(source, 0) + 1
    not_judged = sum(1 for ok, source in found.values() if ok is None and source == "not_judged")
    correct = sum(1 for ok, _ in known.values() if ok)
    return {
        "share": correct / len(known) if known else math.nan,
        "n": len(known),
        "not_judged": not_judged,
        "sources": sources,
    }


def _truncation_warnings(result: ScanResult) -> None:
    for strategy, metrics in result.values.items():
        for metric, rows in metrics.items():
            cut = sum(1 for r in rows if r.get("truncated"))
            if cut and get_metric(metric).role == "familiarity":
                result.warnings.append(f"{strategy} / {metric}: {cut} responses were truncated")
