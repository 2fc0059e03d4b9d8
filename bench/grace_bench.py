"""Benchmark: GRACE's per-example gradients, batched vs one backward per example.

A GRACE of 50 GSM8K questions x 6 strategies (``../shared/data/sppl-gsm8k``, read in
place) with the packaged target model, in LoRA mode (the CPU default): (a) the batched
path, ``workers.scoring.gradients.projected_gradients`` (one backward per batch under a
token budget, per-example B gradients from hooks), and (b) the reference's way,
``workers.scoring.grace_reference.per_example_lora_gradients`` (a peft adapter, one forward
and backward per example). Both project to 512 dimensions with the same chunked seeded
Rademacher projection. Each runs in its own child process, so peak memory (max resident
set; on a GPU, max allocated CUDA memory) is its own; the model load is timed apart.

Printed: seconds and peak memory of both, the speedup, the largest relative difference
between their projected gradients, and each strategy's GRACE from both. Last line: one
JSON object.

    .venv/bin/python bench/grace_bench.py [--questions 50] [--strategies 6] [--dim 512]
        [--per-example-limit N]   # time the slow way on N examples and extrapolate
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.paths import GSM8K_DIR  # noqa: E402

STRATEGIES = [
    "gpt4",
    "claude",
    "mini_gpt4",
    "claude_step_by_step",
    "gpt4_generated_step_by_step_1000",
    "mini_gpt4_rewirte_groundtruth_in_own_words",
]
MODEL = "packaged:SmolLM2-135M-Instruct"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--questions", type=int, default=50)
    p.add_argument("--strategies", type=int, default=6)
    p.add_argument("--dim", type=int, default=512)
    p.add_argument("--token-budget", type=int, default=2048)
    p.add_argument(
        "--per-example-limit",
        type=int,
        default=0,
        help="time the per-example way on the first N examples only (0: all) and extrapolate",
    )
    p.add_argument("--child", choices=["batched", "per-example"], help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return p.parse_args()


def build_items(target, n_questions: int, n_strategies: int) -> tuple[list, list]:  # type: ignore[no-untyped-def]
    """(strategy, question) keys and their items, as the scan core builds them."""
    from workers.scoring.items import ScoreItem
    from workers.scoring.prompts import PromptBuilder
    from workers.scoring.scan import sample_questions
    from workers.training import end_of_turn_id

    files = {n: json.loads((GSM8K_DIR / f"{n}.json").read_text()) for n in STRATEGIES}
    keys = [f"q{i}" for i in range(len(files["gpt4"]))]
    sample = sample_questions(keys, n_questions, seed=0)
    builder = PromptBuilder(target.tokenizer, "chat")
    eot = end_of_turn_id(target.tokenizer)
    pairs, items = [], []
    for key in sample:
        i = int(key[1:])
        prompt = builder.prompt_ids(builder.ppl_prompt(files["gpt4"][i]["question"]))
        for name in STRATEGIES[:n_strategies]:
            response = builder.response_ids(files[name][i]["answer"])
            pairs.append((name, key))
            items.append(ScoreItem(prompt, (*response, eot)))
    return pairs, items


def peak_mb(device: str) -> float:
    import torch

    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(args: argparse.Namespace) -> None:
    """Load, compute one way, write vectors (.npy) and numbers (.json) to ``args.out``."""
    from workers.modeling import load_target
    from workers.scoring.grace_reference import per_example_lora_gradients
    from workers.scoring.gradients import GradientSettings, projected_gradients

    start = time.perf_counter()
    target = load_target(MODEL, cache_dir=ROOT / ".familiar" / "test-models", dtype="float32")
    load_s = time.perf_counter() - start
    pairs, items = build_items(target, args.questions, args.strategies)
    if args.child == "per-example" and args.per_example_limit:
        pairs, items = pairs[: args.per_example_limit], items[: args.per_example_limit]
    settings = GradientSettings("lora", args.dim, 0, args.token_budget)
    after_load = peak_mb(target.device)
    pad = target.tokenizer.pad_token_id or target.tokenizer.eos_token_id
    run = projected_gradients if args.child == "batched" else per_example_lora_gradients
    start = time.perf_counter()
    grads = run(target.model, items, settings, limit=8192, pad_id=pad)
    seconds = time.perf_counter() - start
    np.save(args.out.with_suffix(".npy"), np.array([g.vector for g in grads], dtype=np.float32))
    numbers = {
        "seconds": seconds,
        "load_s": load_s,
        "peak_mb": peak_mb(target.device),
        "peak_mb_after_load": after_load,
        "examples": len(items),
        "tokens": sum(len(i.prefix_ids) + len(i.response_ids) for i in items),
        "device": target.device,
        "pairs": pairs,
    }
    args.out.with_suffix(".json").write_text(json.dumps(numbers))


def run_child(way: str, args: argparse.Namespace, folder: Path) -> tuple[dict, np.ndarray]:
    out = folder / way
    flags = ["--questions", str(args.questions), "--strategies", str(args.strategies)]
    flags += ["--dim", str(args.dim), "--token-budget", str(args.token_budget)]
    flags += ["--per-example-limit", str(args.per_example_limit)]
    command = [sys.executable, __file__, "--child", way, "--out", str(out), *flags]
    subprocess.run(command, check=True)
    return json.loads(out.with_suffix(".json").read_text()), np.load(out.with_suffix(".npy"))


def scores(pairs: list, vectors: np.ndarray) -> dict[str, float]:
    from app.metrics.grace import score

    by: dict[str, dict[str, np.ndarray]] = {}
    for (name, key), v in zip(pairs, vectors, strict=True):
        by.setdefault(name, {})[key[1:]] = v
    return {name: score(vs) for name, vs in by.items()}


def main() -> None:
    args = parse_args()
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory() as folder:
        batched, fast = run_child("batched", args, Path(folder))
        per_example, slow = run_child("per-example", args, Path(folder))
    n_slow = per_example["examples"]
    diff = float(np.max(np.abs(fast[:n_slow] - slow)) / np.max(np.abs(slow)))
    fast_scores = scores(batched["pairs"], fast)
    slow_scores = scores(batched["pairs"], slow) if n_slow == batched["examples"] else {}
    for name in fast_scores:
        other = f"  per-example {slow_scores[name]:.6g}" if name in slow_scores else ""
        print(f"{name:48s} GRACE batched {fast_scores[name]:.6g}{other}")
    # the per-example way's time for every example, measured on the first n_slow of them
    per_example_all_s = per_example["seconds"] / n_slow * batched["examples"]
    if n_slow < batched["examples"]:
        print(
            f"per-example timed on {n_slow} of {batched['examples']} examples: "
            f"{per_example['seconds'] / n_slow:.2f} s each, {per_example_all_s:.0f} s for all"
        )
    for way, n in (("batched", batched), ("per-example backward", per_example)):
        print(
            f"{way:22s} {n['seconds']:8.1f} s for {n['examples']} examples  "
            f"peak {n['peak_mb']:8.0f} MB "
            f"(after load {n['peak_mb_after_load']:.0f} MB)"
        )
    summary = {
        "questions": args.questions,
        "strategies": args.strategies,
        "examples": batched["examples"],
        "tokens": batched["tokens"],
        "dim": args.dim,
        "mode": "lora",
        "device": batched["device"],
        "batched_s": round(batched["seconds"], 2),
        "per_example_timed": n_slow,
        "per_example_s": round(per_example_all_s, 2),
        "per_example_extrapolated": n_slow < batched["examples"],
        "speedup": round(per_example_all_s / batched["seconds"], 2),
        "batched_peak_mb": round(batched["peak_mb"]),
        "per_example_peak_mb": round(per_example["peak_mb"]),
        "peak_mb_after_load": round(batched["peak_mb_after_load"]),
        "max_rel_diff": diff,
        "grace": {k: round(v, 6) for k, v in fast_scores.items()},
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
