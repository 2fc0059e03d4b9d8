"""GRACE in a scan: the per-response compute and the gradient step (``needs: gradients``).

``grace(example)`` is the registry's compute: each response's row holds its projected
gradient (``vector``, stored with the scan in ``scan_vectors``) and, as its per-response
value, the norm of its raw gradient (how hard the response pulls on the adapter, shown in
distributions and exports). The strategy's GRACE score is not a mean of those values: the
registry's aggregate (``app.metrics.grace:score``) computes it from the vectors.

``scan_gradients`` computes the vectors for every (strategy, sampled question): the prompt
is the question in the target's chat template (the PPL prompt), the response is followed by
the end-of-turn token (the reference appends EOS and trains on it), loss on the response.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from app.specs.scan import ScanSpec
from workers.scoring.gradients import GradientSettings, ProjectedGradient, resolve_mode
from workers.scoring.items import ScoreItem
from workers.scoring.metrics import Example, Row
from workers.scoring.prompts import PromptBuilder

CPU_TOKEN_BUDGET, GPU_TOKEN_BUDGET = 2048, 16384


def grace(ex: Example) -> Row:
    g: ProjectedGradient = ex.computed["gradients"]
    return {
        "question_key": ex.key,
        "value": g.grad_norm if g.n_tokens else float("nan"),
        "vector": g.vector,
        "n_tokens": g.n_tokens,
        "truncated": g.truncated,
        "empty": g.n_tokens == 0 and not g.truncated,
    }


def gradient_settings(spec: ScanSpec, device: str) -> GradientSettings:
    """The scan's gradient settings, ``auto`` resolved for the device the target runs on."""
    gpu = str(device).startswith("cuda")
    budget = spec.token_budget or (GPU_TOKEN_BUDGET if gpu else CPU_TOKEN_BUDGET)
    mode = resolve_mode(spec.gradients, device)
    return GradientSettings(mode=mode, dim=spec.projection_dim, seed=spec.seed, token_budget=budget)


def scan_gradients(
    target: Any,
    builder: PromptBuilder,
    spec: ScanSpec,
    *,
    sample: Sequence[str],
    texts: Mapping[str, str],
    responses: Mapping[str, Mapping[str, str]],
    limit: int,
    report: Callable[[str, int, int, dict[str, Any]], None],
) -> tuple[dict[tuple[str, str], ProjectedGradient], GradientSettings, float]:
    """{(strategy, question key): projected gradient}, the settings that ran, seconds."""
    from workers.training import end_of_turn_id

    settings = gradient_settings(spec, target.device)
    eot = end_of_turn_id(target.tokenizer)
    keys, items = [], []
    for key in sample:
        prompt = builder.prompt_ids(builder.ppl_prompt(texts[key]))
        for strategy, answers in responses.items():
            keys.append((strategy, key))
            items.append(ScoreItem(prompt, (*builder.response_ids(answers[key]), eot)))
    start = time.perf_counter()
    report("gradients", 0, len(items), {})
    vectors = target.projected_gradients(
        items, settings, limit=limit, on_progress=lambda d, t: report("gradients", d, t, {})
    )
    return dict(zip(keys, vectors, strict=True)), settings, time.perf_counter() - start


def gradient_needs(ctx: Any, responses: Mapping[str, Mapping[str, str]]) -> dict[Any, Any]:
    """The scan core's gradient step: {(strategy, question key): {"gradients": vector}};
    records the mode that ran (``gradients_resolved``) and its seconds (``ctx`` is the scan
    core's context: target, builder, spec, texts, limit, report, result)."""
    vectors, settings, seconds = scan_gradients(
        ctx.target,
        ctx.builder,
        ctx.spec,
        sample=ctx.result.sample,
        texts=ctx.texts,
        responses=responses,
        limit=ctx.limit,
        report=ctx.report,
    )
    ctx.result.settings["gradients_resolved"] = settings.mode
    ctx.result.timings["gradients"] = seconds
    return {k: {"gradients": v} for k, v in vectors.items()}
