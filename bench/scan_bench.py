"""Benchmark: fast batched scoring vs the per-example reference loop (same items).

An SPPL + PPL scan of 8 GSM8K strategies x 20 questions with the packaged target model.
(a) ``score_items`` (shared prefixes computed once, LM head on response positions only,
length-sorted batches under a token budget) and (b) ``reference_score`` one item at a time
(float32, full logits over the whole sequence; a float32 copy of the model when "auto" picks
bfloat16 for the fast path). Own-answer generation for the SPPL pool is
done first, timed separately, and cached under ``.familiar/bench`` (reruns skip it).

Reported: both times, their ratio, tokens/s of the fast path (tokens the model actually
processes, each shared prefix once), and the share of the machine's measured matmul rate
the fast path reaches at 2 x parameters FLOPs per token. The matmul rate is measured here
with square matmuls in float32 and bfloat16; the share is taken against the rate of the
dtype the model runs in (``auto`` resolves to float32 on CPUs without fast bf16).
The rate is measured again before every slice and the share is taken against the median
rate during the run (on a shared machine it swings by 2x within the hour).
Last line: one JSON object (speedup, tokens_per_s, matmul_share, ...).

    .venv/bin/python bench/scan_bench.py [--questions 20] [--strategies 8] [--pool 24]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.paths import GSM8K_DIR  # noqa: E402
from workers.modeling import load_target  # noqa: E402
from workers.modeling.dtypes import DTYPES, square_matmul_rate  # noqa: E402
from workers.scoring.batched import score_items  # noqa: E402
from workers.scoring.cache import SqliteCache  # noqa: E402
from workers.scoring.exemplars import select_exemplars  # noqa: E402
from workers.scoring.items import ScoreItem  # noqa: E402
from workers.scoring.own_answers import (  # noqa: E402
    check_answers,
    generate_own_answers,
    pool_questions,
)
from workers.scoring.prompts import PromptBuilder  # noqa: E402
from workers.scoring.reference import reference_score  # noqa: E402
from workers.scoring.scan import sample_questions  # noqa: E402

STRATEGIES = [
    "gpt4",
    "claude",
    "mini_gpt4",
    "simple_response",
    "gpt4_generated_step_by_step_1000",
    "claude_step_by_step",
    "mini_gpt4_rewirte_groundtruth_in_own_words",
    "openai_human_written_examples",
    "claude_simple_response",
    "mini_gpt4_step_by_step",
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--strategies", type=int, default=8)
    parser.add_argument("--examples", type=int, default=3)
    parser.add_argument("--pool", type=int, default=24)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--token-budget", type=int, default=None, help="default: by device")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".familiar" / "bench")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument(
        "--slices",
        type=int,
        default=4,
        help="time fast and reference alternately on this many question slices, so both "
        "see the same machine load (this machine is shared)",
    )
    parser.add_argument("--profile", action="store_true", help="print where fast-path time goes")
    return parser.parse_args()


def load_data(n_strategies: int) -> tuple[list, dict[str, dict[str, str]]]:
    """Questions (key, text, gold) and responses per strategy, matched by position."""
    files = {name: json.loads((GSM8K_DIR / f"{name}.json").read_text()) for name in STRATEGIES}
    names = STRATEGIES[:n_strategies]
    base = files["gpt4"]
    questions = [(f"q{i}", r["question"], r["gold_label"]) for i, r in enumerate(base)]
    responses = {n: {f"q{i}": r["answer"] for i, r in enumerate(files[n])} for n in names}
    return questions, responses


def own_exemplars(target, builder, questions, sample, args) -> tuple[dict, float, int]:
    pool = pool_questions(questions, args.pool, need_gold=True)
    cache = SqliteCache(args.cache_dir / "own-answers.sqlite")
    started = time.perf_counter()
    texts, generated = generate_own_answers(
        target, builder, pool, max_new_tokens=args.max_new_tokens, cache=cache
    )
    seconds = time.perf_counter() - started
    own = check_answers(pool, texts, "numeric")
    plan = select_exemplars(sample, own, args.examples)
    for warning in plan.warnings:
        print("  note:", warning)
    return plan.examples, seconds, generated


def build_items(builder, questions, responses, sample, examples) -> list[tuple[str, ScoreItem]]:
    texts = {k: t for k, t, _ in questions}
    items = []
    for key in sample:
        ppl = builder.prompt_ids(builder.ppl_prompt(texts[key]))
        sppl = builder.prompt_ids(builder.sppl_prompt(texts[key], examples[key]))
        for answers in responses.values():
            response = builder.response_ids(answers[key])
            items += [("ppl", ScoreItem(ppl, response)), ("sppl", ScoreItem(sppl, response))]
    return items


def processed_tokens(items: list[ScoreItem]) -> tuple[int, int]:
    """(tokens the fast path runs: distinct prefixes once + responses; reference tokens)."""
    fast = sum(len(p) for p in {i.prefix_ids for i in items})
    fast += sum(len(i.response_ids) for i in items)
    reference = sum(len(i.prefix_ids) + len(i.response_ids) for i in items)
    return fast, reference


def reference_model(args):
    if args.skip_reference:
        return None
    return load_target(
        "packaged:SmolLM2-135M-Instruct",
        cache_dir=ROOT / ".familiar" / "test-models",
        dtype="float32",
    ).model


def run_interleaved(model, reference, items, args, dtype) -> tuple[list, list, float, float, list]:
    """Fast path and reference loop, alternating slice by slice (same load for both).

    The matmul rate is measured again before each slice: on a shared machine it swings by
    2x within the hour, so the share is taken against the median rate during the run.
    """
    fast, ref, fast_s, ref_s, slice_rates = [], [], 0.0, 0.0, []
    per_question = len(items) // args.questions
    per = -(-args.questions // args.slices) * per_question
    for start in range(0, len(items), per):
        part = items[start : start + per]  # whole questions: items are grouped by question
        slice_rates.append(square_matmul_rate(dtype, 1024, seconds=0.5))
        got, seconds = timed(lambda p=part: score_items(model, p, token_budget=args.token_budget))
        fast, fast_s = fast + got, fast_s + seconds
        if not args.skip_reference:
            got, seconds = timed(lambda p=part: [reference_score(reference, i) for i in p])
            ref, ref_s = ref + got, ref_s + seconds
        print(f"  slice {start // per + 1}: fast {fast_s:.0f} s, reference {ref_s:.0f} s so far")
    return fast, ref, fast_s, (ref_s if ref else float("nan")), slice_rates


def timed(fn):
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def max_rel_diff(fast, ref) -> float:
    return max(abs(a.mean_nll - b.mean_nll) / b.mean_nll for a, b in zip(fast, ref, strict=True))


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    target = load_target(
        "packaged:SmolLM2-135M-Instruct",
        cache_dir=ROOT / ".familiar" / "test-models",
        dtype=args.dtype,
    )
    builder = PromptBuilder(target.tokenizer, "chat")
    questions, responses = load_data(args.strategies)
    sample = sample_questions([q[0] for q in questions], args.questions, seed=0)
    examples, gen_s, generated = own_exemplars(target, builder, questions, sample, args)
    labelled = build_items(builder, questions, responses, sample, examples)
    items = [item for _, item in labelled]
    fast_tokens, ref_tokens = processed_tokens(items)
    rates = {name: square_matmul_rate(dt, 1024, seconds=2.0) for name, dt in DTYPES.items()}
    model = target.model
    # The reference is the straightforward loop of the issue: float32 whatever "auto" chose.
    reference = model if target.dtype == "float32" else reference_model(args)
    fast, ref, fast_s, ref_s, slice_rates = run_interleaved(
        model, reference, items, args, DTYPES[target.dtype]
    )
    rates["during"] = statistics.median(slice_rates)
    rates["during_min"], rates["during_max"] = min(slice_rates), max(slice_rates)
    if args.profile:
        profile_fast_path(model, items, args.token_budget)
    report(
        args,
        target,
        items,
        labelled,
        fast,
        ref,
        fast_s,
        ref_s,
        gen_s,
        generated,
        fast_tokens,
        ref_tokens,
        rates,
    )


STAGES = ("familiar.prefixes", "familiar.responses", "familiar.lm_head")
OPS = {
    "linear (aten::mm/addmm)": ("aten::mm", "aten::addmm"),
    "attention (sdpa)": (
        "aten::_scaled_dot_product_flash_attention_for_cpu",
        "aten::_scaled_dot_product_attention_math",
        "aten::bmm",
    ),
    "embedding": ("aten::embedding", "aten::index_select"),
    "log-softmax (logsumexp/gather)": ("aten::logsumexp", "aten::gather"),
    "kv copy (cat/index_select)": ("aten::cat",),
}


def profile_fast_path(model, items, budget: int) -> None:
    """Stage split (prefix pass / response pass / LM head), op split and batch shapes."""
    shapes: list[tuple[int, int, int]] = []

    def record(_module, _args, kwargs, _out) -> None:
        rows, width = kwargs["input_ids"].shape
        shapes.append((rows, width, kwargs["attention_mask"].shape[1] - width))

    hook = model.base_model.register_forward_hook(record, with_kwargs=True)
    with torch.profiler.profile() as prof, torch.inference_mode():
        score_items(model, items, token_budget=budget)
    hook.remove()
    events = {e.key: e for e in prof.key_averages()}
    total = sum(e.self_cpu_time_total for e in events.values())
    for stage in STAGES:
        if stage in events:
            print(f"  {stage:28s} {events[stage].cpu_time_total / total:6.1%}")
    for label, names in OPS.items():
        share = sum(events[n].self_cpu_time_total for n in names if n in events) / total
        print(f"  op {label:32s} {share:6.1%}")
    print(f"  {len(shapes)} forward passes (rows, new tokens, cached tokens): {shapes[:12]} ...")


def report(
    args,
    target,
    items,
    labelled,
    fast,
    ref,
    fast_s,
    ref_s,
    gen_s,
    generated,
    fast_tokens,
    ref_tokens,
    rates,
) -> None:
    achieved = fast_tokens * 2 * target.n_params / fast_s
    rate = rates["during"]
    sppl_prefix = [len(i.prefix_ids) for c, i in labelled if c == "sppl"]
    result = {
        "speedup": ref_s / fast_s,
        "tokens_per_s": fast_tokens / fast_s,
        "matmul_share": achieved / rate,
        "fast_s": fast_s,
        "reference_s": ref_s,
        "reference_tokens_per_s": ref_tokens / ref_s,
        "generation_s": gen_s,
        "generated_answers": generated,
        "items": len(items),
        "fast_tokens": fast_tokens,
        "reference_tokens": ref_tokens,
        "mean_sppl_prefix_tokens": sum(sppl_prefix) / len(sppl_prefix),
        "dtype": target.dtype,
        "threads": args.threads,
        "achieved_gflops": achieved / 1e9,
        "matmul_gflops_float32": rates["float32"] / 1e9,
        "matmul_gflops_bfloat16": rates["bfloat16"] / 1e9,
        "matmul_gflops_during_run": rates["during"] / 1e9,
        "matmul_gflops_during_min": rates["during_min"] / 1e9,
        "matmul_gflops_during_max": rates["during_max"] / 1e9,
        "max_rel_diff_mean_nll": max_rel_diff(fast, ref) if ref else None,
        "loadavg_1m": os.getloadavg()[0],
    }
    print_summary(result, rate)
    print(json.dumps(result))


def print_summary(r: dict, rate: float) -> None:
    fast_rate, ref_rate = r["tokens_per_s"], r["reference_tokens_per_s"]
    print(f"fast path      {r['fast_s']:8.1f} s {fast_rate:8.0f} tokens/s ({r['fast_tokens']})")
    print(
        f"reference loop {r['reference_s']:8.1f} s {ref_rate:8.0f} tokens/s "
        f"({r['reference_tokens']})"
    )
    print(
        f"speedup {r['speedup']:.2f}x; own answers {r['generation_s']:.1f} s "
        f"({r['generated_answers']} generated)"
    )
    print(
        f"matmul {r['dtype']} {rate / 1e9:.1f} GFLOP/s median during the run "
        f"({r['matmul_gflops_during_min']:.0f}-{r['matmul_gflops_during_max']:.0f}; "
        f"at start: float32 {r['matmul_gflops_float32']:.1f},"
        f" bfloat16 {r['matmul_gflops_bfloat16']:.1f}); fast path "
        f"{r['achieved_gflops']:.1f} GFLOP/s = {r['matmul_share']:.0%}"
    )


if __name__ == "__main__":
    main()
