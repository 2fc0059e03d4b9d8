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
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.specs.scan import ScanInputError, ScanSpec
from workers.modeling.loader import Target, describe_target
from workers.scoring.answers import UnknownJudgeError, check_answer, check_judge_name
from workers.scoring.batched import score_items
from workers.scoring.cache import score_key
from workers.scoring.exemplars import ExemplarPlan, NoExemplarsError, select_exemplars
from workers.scoring.items import ScoreItem, ScoreResult, effective_max_length
from workers.scoring.metrics import RANKED, aggregate, example_rows, rank_strategies
from workers.scoring.own_answers import (
    Question,
    check_answers,
    generate_own_answers,
    has_gold,
    pool_questions,
)
from workers.scoring.prompts import PromptBuilder

ScanProgress = Callable[[str, int, int, dict[str, Any]], None]
COMPONENT_PHASE = {"ppl": "scoring ppl", "sppl": "scoring sppl", "alone": "scoring ifd"}


@dataclass
class ScanResult:
    """Everything a scan produced; ``to_dict()`` is plain JSON (NaN -> null)."""

    settings: dict[str, Any]
    model: dict[str, Any]
    sample: list[str]
    samples: list[list[str]] = field(default_factory=list)  # K disjoint samples (K > 1)
    exemplars: dict[str, list[str]] = field(default_factory=dict)
    exemplar_sources: dict[str, list[str]] = field(default_factory=dict)
    own_answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    values: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    aggregates: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    correct_share: dict[str, dict[str, Any]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return _json_safe(dict(self.__dict__))


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


@dataclass
class _Context:
    """State shared by the steps of one scan."""

    spec: ScanSpec
    target: Target
    builder: PromptBuilder
    texts: dict[str, str]
    golds: dict[str, str | None]
    judge: str
    limit: int
    cache: Any
    report: ScanProgress
    result: ScanResult


def run_scan(
    spec: ScanSpec,
    target: Target,
    questions: Sequence[Question],
    responses: Mapping[str, Mapping[str, str]],
    *,
    on_progress: ScanProgress | None = None,
    cache: Any = None,
) -> ScanResult:
    """Run a familiarity scan (see the module docstring)."""
    started = time.perf_counter()
    ctx = _prepare(spec, target, questions, responses, on_progress, cache)
    plan = _exemplars(ctx, questions) if "sppl" in spec.metrics else None
    scored = {c: _score_component(ctx, c, responses, plan) for c in _components(spec)}
    _collect(ctx, responses, scored)
    ctx.result.timings["total"] = time.perf_counter() - started
    ctx.report("done", 1, 1, {})
    return ctx.result


def _components(spec: ScanSpec) -> list[str]:
    wanted = []
    if {"ppl", "ifd"} & set(spec.metrics):
        wanted.append("ppl")
    if "sppl" in spec.metrics:
        wanted.append("sppl")
    if "ifd" in spec.metrics:
        wanted.append("alone")
    return wanted


def _prepare(
    spec: ScanSpec,
    target: Target,
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
        model=describe_target(target),
        sample=[k for k in shared if k in chosen],
        samples=sets if spec.samples > 1 else [],
    )
    report = on_progress or (lambda *_: None)
    limit = effective_max_length(target.model, spec.max_length)
    return _Context(spec, target, builder, texts, golds, judge, limit, cache, report, result)


def _builder(spec: ScanSpec, target: Target) -> PromptBuilder:
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


def shared_questions(order: Sequence[str], responses: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Question keys (in ``order``) answered by every strategy; errors when there are none."""
    if not responses:
        raise ScanInputError("responses: no strategy given")
    shared = [k for k in order if all(k in answers for answers in responses.values())]
    if not shared:
        raise ScanInputError(
            f"no question is answered by all {len(responses)} strategies "
            f"({', '.join(sorted(responses))}); check that the files hold the same questions"
        )
    return shared


def sample_questions(shared: Sequence[str], n: int, seed: int) -> list[str]:
    """A seeded sample of ``n`` keys, kept in the stable question order."""
    return sample_sets(shared, n, 1, seed)[0]


def sample_sets(shared: Sequence[str], n: int, k: int, seed: int) -> list[list[str]]:
    """``k`` disjoint seeded samples of ``n`` keys, each in the stable question order; one
    draw of ``n * k`` keys cut in order, so ``k = 1`` is the single sample of the same seed."""
    drawn = random.Random(seed).sample(list(shared), n * k)
    position = {key: i for i, key in enumerate(shared)}
    return [sorted(drawn[i * n : (i + 1) * n], key=position.__getitem__) for i in range(k)]


def _resolve_judge(spec: ScanSpec, questions: Sequence[Question]) -> str:
    judge = spec.judge  # "auto": each question by its own answer type (workers.judging)
    try:
        check_judge_name(judge)
    except UnknownJudgeError as exc:
        raise ScanInputError(f"judge: {exc}") from None
    strict = "sppl" in spec.metrics and spec.filter_correct and not spec.allow_unfiltered_fallback
    if strict and not any(has_gold(q[2]) for q in questions):
        raise ScanInputError(
            "SPPL's correctness filter needs gold answers and no question has one; "
            "switch the filter off or allow the unfiltered fallback"
        )
    return judge


def _exemplars(ctx: _Context, questions: Sequence[Question]) -> ExemplarPlan:
    """Own answers to the pool (generated or cached), checked, then the exemplar plan."""
    spec = ctx.spec
    need_gold = spec.filter_correct and any(has_gold(q[2]) for q in questions)
    pool = pool_questions(questions, spec.pool, need_gold=need_gold)
    if len(pool) < spec.pool:
        ctx.result.warnings.append(f"SPPL pool has {len(pool)} questions ({spec.pool} asked)")
    start = time.perf_counter()
    ctx.report("generating", 0, len(pool), {})
    texts, generated = generate_own_answers(
        ctx.target, ctx.builder, pool, max_new_tokens=spec.max_new_tokens, cache=ctx.cache,
        on_progress=lambda done, total: ctx.report("generating", done, total, {}),
    )  # fmt: skip
    ctx.result.timings["generating"] = time.perf_counter() - start
    ctx.result.counts["generated"] = generated
    return _plan_exemplars(ctx, pool, texts, need_gold)


def _plan_exemplars(
    ctx: _Context, pool: Sequence[Question], texts: Sequence[str], need_gold: bool
) -> ExemplarPlan:
    own = check_answers(pool, texts, ctx.judge)
    ctx.result.own_answers = {a.key: {"text": a.text, "correct": a.correct} for a in own}
    try:
        plan = select_exemplars(
            ctx.result.sample, own, ctx.spec.examples,
            filter_correct=ctx.spec.filter_correct and need_gold,
            allow_unfiltered_fallback=ctx.spec.allow_unfiltered_fallback,
        )  # fmt: skip
    except NoExemplarsError as exc:
        raise ScanInputError(str(exc)) from None
    if ctx.spec.filter_correct and not need_gold:
        ctx.result.warnings.append("no gold answers: SPPL examples are unfiltered own answers")
    ctx.result.warnings.extend(plan.warnings)
    ctx.result.exemplars, ctx.result.exemplar_sources = plan.examples, plan.sources
    ctx.result.settings["exemplars_filtered"] = plan.filtered
    ctx.result.counts["own_correct"] = sum(1 for a in own if a.correct)
    return plan


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
                component, ctx.target.model_key, ctx.target.dtype, spec.template, ctx.limit,
                prefix_text, text,
            )  # fmt: skip
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


def _count(result: ScanResult, name: str, n: int) -> None:
    result.counts[name] = result.counts.get(name, 0) + n


def _score_missing(
    ctx: _Context, component: str, todo: list[str], unique: dict[str, ScoreItem], cached: int
) -> dict[str, ScoreResult]:
    phase, start = COMPONENT_PHASE[component], time.perf_counter()
    total = cached + len(todo)
    ctx.report(phase, cached, total, {"cached": cached, "tokens": 0, "tokens_per_s": 0.0})

    def progress(done: int, _total: int, tokens: int) -> None:
        rate = tokens / max(time.perf_counter() - start, 1e-9)
        extra = {"cached": cached, "tokens": tokens, "tokens_per_s": rate}
        ctx.report(phase, cached + done, total, extra)

    def store(batch: dict[int, ScoreResult]) -> None:
        if ctx.cache is not None:
            ctx.cache.put_many(
                {todo[i]: (r.sum_nll, r.n_tokens, r.truncated) for i, r in batch.items()}
            )

    results = score_items(
        ctx.target.model, [unique[k] for k in todo], max_length=ctx.limit,
        token_budget=ctx.spec.token_budget, on_progress=progress, on_batch=store,
    )  # fmt: skip
    ctx.result.timings[phase] = time.perf_counter() - start
    return dict(zip(todo, results, strict=True))


def _collect(
    ctx: _Context,
    responses: Mapping[str, Mapping[str, str]],
    scored: Mapping[str, Mapping[tuple[str, str], ScoreResult]],
) -> None:
    """Per-question values, aggregates, ranks, correct shares, truncation warnings."""
    metrics = (
        [*ctx.spec.metrics, "logprob", "length"]
        if "ppl" in scored
        else [*ctx.spec.metrics, "length"]
    )
    for strategy, answers in responses.items():
        rows = [_rows(ctx, scored, strategy, key, answers[key]) for key in ctx.result.sample]
        ctx.result.values[strategy] = {m: [r[m] for r in rows] for m in metrics}
        ctx.result.aggregates[strategy] = {
            m: aggregate(ctx.result.values[strategy][m], m, seed=ctx.spec.seed) for m in metrics
        }
        ctx.result.correct_share[strategy] = _correct_share(ctx, answers)
    _rank(ctx.result, [m for m in metrics if m in RANKED])
    _truncation_warnings(ctx.result)


def _rows(
    ctx: _Context, scored: Mapping[str, Mapping], strategy: str, key: str, text: str
) -> dict[str, dict[str, Any]]:
    got = {c: scored[c][(strategy, key)] for c in scored}
    rows = example_rows(
        key, ppl=got.get("ppl"), sppl=got.get("sppl"), alone=got.get("alone"),
        length=len(ctx.builder.alone_response_ids(text)),
    )  # fmt: skip
    if "ppl" not in ctx.spec.metrics:
        rows.pop("ppl", None)
    return rows


def _rank(result: ScanResult, metrics: Sequence[str]) -> None:
    for metric in metrics:
        means = {s: agg[metric]["mean"] for s, agg in result.aggregates.items()}
        for strategy, rank in rank_strategies(means).items():
            result.aggregates[strategy][metric]["rank"] = rank


def _correct_share(ctx: _Context, answers: Mapping[str, str]) -> dict[str, Any]:
    keys = [k for k in ctx.result.sample if has_gold(ctx.golds.get(k))]
    correct = sum(
        1 for k in keys if check_answer(ctx.judge, ctx.texts[k], answers[k], str(ctx.golds[k]))
    )
    return {"share": correct / len(keys) if keys else math.nan, "n": len(keys)}


def _truncation_warnings(result: ScanResult) -> None:
    for strategy, metrics in result.values.items():
        for metric, rows in metrics.items():
            cut = sum(1 for r in rows if r.get("truncated"))
            if cut and metric in RANKED:
                result.warnings.append(f"{strategy} / {metric}: {cut} responses were truncated")
