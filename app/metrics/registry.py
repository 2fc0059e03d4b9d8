"""The one registry of metrics: name, label, direction, scale, role, definition, needs.

In the style of ``app.jobs.kinds``: a table the web process imports without torch; the
per-example compute function is a dotted path that only a worker resolves. Every page,
schema, export, estimate, agreement table and study reads a metric's label, direction and
scale from here, so a new metric is one entry plus one compute function
(tests/metrics/test_add_a_metric.py adds one and finds it everywhere).

Roles: ``familiarity`` metrics rank strategies and may recommend one (the first by
``order`` that a scan has is its primary); ``descriptive`` ones are shown and exported but
never recommend. ``selectable`` metrics are asked for by name in a scan spec; descriptive
ones come along whenever what they need was computed anyway.

A metric whose value belongs to the whole strategy rather than to each response (GRACE)
names an ``aggregate``: its compute function gives each response a row with a ``vector``
(stored with the scan) and a descriptive per-response value, and the aggregate turns a
strategy's vectors into the score that ranks it (``strategy_scores``).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

Role = Literal["familiarity", "descriptive"]

# What a metric needs from the model; the scan core computes the union of its metrics' needs.
NEEDS = {
    "ppl_prompt": "log-probs of the response after the question, in the chat template",
    "sppl_prompt": "log-probs of the response after the SPPL prompt (question + own answers)",
    "alone": "log-probs of the response with no question",
    "own_answers": "the target's own zero-shot answers to a pool of questions (generation)",
    "gradients": "gradients of the response loss with respect to the target's weights",
}


@dataclass(frozen=True)
class Flag:
    """A per-example condition a metric counts and names (IFD above 1)."""

    key: str  # the row field and the aggregate's ``n_<key>``
    threshold: float  # value > threshold
    note: str


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    lower_is_better: bool
    role: Role
    definition: str  # one line, shown on pages and in the docs
    compute: str  # "module:function", resolved by workers only
    needs: tuple[str, ...] = ()
    selectable: bool = False  # a scan asks for it by name
    agreement: bool = True  # ranked against the other metrics in agreement tables
    log_scale: bool = False  # the default chart axis
    positive: bool = False  # values are > 0, so a log axis can work
    context: str | None = None  # the prompt it scores in (per-token surprise views)
    flag: Flag | None = None
    order: int = 100  # display order; the first familiarity metric a scan has is primary
    integer: bool = False  # counted, not measured: shown without decimals
    form_label: str = ""  # the scan form's label, when not the plain label
    origin: str = "built-in"  # or "imported" (app.metrics.table.imported_info)
    source: str | None = None  # where an imported metric came from
    # A strategy-level score: "module:function" (numpy only, importable by the web process)
    # from the strategy's per-question vectors (the rows' "vector", in sample order) to its
    # value, which then ranks the strategy in place of the mean of the per-question values.
    aggregate: str | None = None

    @property
    def direction(self) -> str:
        return "lower is better" if self.lower_is_better else "higher is better"


class UnknownMetricError(ValueError):
    """No metric of that name."""


# Registration order (ppl, sppl, ifd, ...) is the order of a scan spec's metrics; `order`
# is the order pages show them in (SPPL first: the research found it picks best).
BUILT_IN: tuple[Metric, ...] = (
    Metric(
        "ppl",
        "PPL",
        True,
        "familiarity",
        "Perplexity: exp(mean NLL) of the response tokens after the question, in the target's "
        "chat template.",
        "workers.scoring.metrics:ppl",
        ("ppl_prompt",),
        selectable=True,
        log_scale=True,
        positive=True,
        context="ppl",
        order=1,
    ),
    Metric(
        "sppl",
        "SPPL",
        True,
        "familiarity",
        "Self-aligned perplexity: exp(mean NLL) of the response after the question and N of "
        "the target's own correct answers to other questions as style examples.",
        "workers.scoring.metrics:sppl",
        ("sppl_prompt", "own_answers"),
        form_label="SPPL (self-aligned)",
        selectable=True,
        log_scale=True,
        positive=True,
        context="sppl",
        order=0,
    ),
    Metric(
        "ifd",
        "IFD",
        True,
        "familiarity",
        "Instruction-following difficulty: mean NLL of the response after the question over "
        "its mean NLL alone; above 1, the question does not help.",
        "workers.scoring.metrics:ifd",
        ("ppl_prompt", "alone"),
        selectable=True,
        positive=True,
        order=2,
        flag=Flag("above_1", 1.0, "the question does not help the model predict the response"),
    ),
    Metric(
        "grace",
        "GRACE",
        True,
        "familiarity",
        "Cross-validated score of the target's projected per-response gradients (Panigrahi "
        "et al., 2026): lower means the held-out gradients lie where the others point.",
        "workers.scoring.grace:grace",
        ("gradients",),
        selectable=True,
        positive=True,
        order=3,
        aggregate="app.metrics.grace:score",
    ),
    Metric(
        "length",
        "Length (tokens)",
        True,
        "descriptive",
        "The response's length in the target's tokens (tokenised alone).",
        "workers.scoring.metrics:length",
        (),
        positive=True,
        order=10,
        integer=True,
    ),
    Metric(
        "logprob",
        "Mean log-probability",
        False,
        "descriptive",
        "Mean log-probability of the response tokens after the question (the PPL prompt).",
        "workers.scoring.metrics:logprob",
        ("ppl_prompt",),
        agreement=False,
        order=11,
    ),
)

_REGISTRY: dict[str, Metric] = {m.name: m for m in BUILT_IN}


def all_metrics() -> list[Metric]:
    """Every registered metric, in display order."""
    return sorted(_REGISTRY.values(), key=lambda m: (m.order, m.name))


def names(role: Role | None = None) -> tuple[str, ...]:
    return tuple(m.name for m in all_metrics() if role is None or m.role == role)


def selectable() -> tuple[str, ...]:
    """The metrics a scan asks for by name, in registration order (a spec's canonical order)."""
    return tuple(m.name for m in _REGISTRY.values() if m.selectable)


def is_metric(name: str) -> bool:
    return name in _REGISTRY


def get_metric(name: str) -> Metric:
    """The metric called ``name``; on a typo the error suggests the closest one."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    close = difflib.get_close_matches(name, list(_REGISTRY), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise UnknownMetricError(f"unknown metric {name!r}{hint} (one of {', '.join(names())})")


def ordered(present: object) -> list[str]:
    """The registered metrics among ``present`` (any container of names), in display order."""
    return [m.name for m in all_metrics() if m.name in present]  # type: ignore[operator]


def primary(present: object) -> str | None:
    """The metric a scan with these metrics recommends by: its first familiarity metric."""
    return next((n for n in ordered(present) if _REGISTRY[n].role == "familiarity"), None)


def register(metric: Metric) -> Metric:
    """Add a metric (a plug-in's, or a test's); its name must be new."""
    if metric.name in _REGISTRY:
        raise ValueError(f"metric {metric.name!r} is already registered")
    for need in metric.needs:
        if need not in NEEDS:
            raise ValueError(f"metric {metric.name!r} needs {need!r}: not one of {list(NEEDS)}")
    _REGISTRY[metric.name] = metric
    return metric


def unregister(name: str) -> None:
    if any(m.name == name for m in BUILT_IN):
        raise ValueError(f"{name!r} is built in")
    _REGISTRY.pop(name, None)


@contextmanager
def registered(metric: Metric) -> Iterator[Metric]:
    """``register`` for the length of a block (tests)."""
    register(metric)
    try:
        yield metric
    finally:
        unregister(metric.name)


def familiarity(present: object) -> list[str]:
    """The familiarity metrics among ``present``, in display order (primary first)."""
    return [n for n in ordered(present) if _REGISTRY[n].role == "familiarity"]


def label_of(name: str) -> str:
    """A registered metric's label; other names (imported metrics) as they are."""
    return _REGISTRY[name].label if name in _REGISTRY else name


def lower_is_better(name: str) -> bool:
    """A registered metric's direction (other names: lower is better)."""
    return _REGISTRY[name].lower_is_better if name in _REGISTRY else True


# The needs that are scored prompts (one scoring pass each), in scoring order, with the
# job phase that scores each (what job pages and time estimates show).
SCORING_PHASE = {"ppl_prompt": "scoring ppl", "sppl_prompt": "scoring sppl", "alone": "scoring ifd"}
SCORED_PROMPTS = tuple(SCORING_PHASE)
# The scan timing (ScanOutput.timings key) that measures each need's model time.
NEED_TIMING = SCORING_PHASE | {"own_answers": "generating", "gradients": "gradients"}


def model_seconds(
    name: str, timings: Mapping[str, float], counts: Mapping[str, int] | None = None
) -> float | None:
    """Seconds of model time metric ``name`` costs in a scan: the timed phases its needs map
    to (a phase two metrics share counts for each: the cost of that selector alone). A phase
    that took part of its items from the cache (``counts["<phase> items"]`` and ``"<phase>
    cached"``) is scaled up to all of its items at the rate it ran; a phase served wholly
    from the cache has no rate here, so the cost is None, as it is for a name the registry
    does not hold or when none of its phases was timed."""
    metric = _REGISTRY.get(name)
    if metric is None:
        return None
    counts = counts or {}
    spent = []
    for need in metric.needs:
        phase = NEED_TIMING[need]
        if phase not in timings:
            continue
        items, cached = counts.get(f"{phase} items"), counts.get(f"{phase} cached", 0)
        if items and cached >= items:
            return None
        spent.append(timings[phase] * (items / (items - cached) if items and cached else 1.0))
    return float(sum(spent)) if spent else None


def needs_of(metric_names: object) -> set[str]:
    """What these metrics need from the model, together."""
    return {n for name in metric_names for n in get_metric(name).needs}  # type: ignore[attr-defined]


def scored_prompts(metric_names: object) -> list[str]:
    """The prompts a scan of these metrics scores (each response once per prompt)."""
    needs = needs_of(metric_names)
    return [p for p in SCORED_PROMPTS if p in needs]


def aggregate_function(name: str) -> Callable[[Mapping[str, Any]], float] | None:
    """A registered metric's strategy-level aggregate (imported on first use), or None."""
    metric = _REGISTRY.get(name)
    if metric is None or not metric.aggregate:
        return None
    module, _, function = metric.aggregate.partition(":")
    return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]


def strategy_scores(name: str, vectors: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """{strategy: score} of a metric with an aggregate, from {strategy: {question: vector}};
    {} for any other metric (those rank by the mean of their per-question values)."""
    function = aggregate_function(name)
    if function is None:
        return {}
    return {s: float(function(by_question)) for s, by_question in vectors.items()}


def info(name: str) -> Metric | None:
    """The registered metric, or None for another name (an imported metric's)."""
    return _REGISTRY.get(name)
