"""Benchmark: how close "time left" lands, on a quiet machine and on a busy one.

A PPL + SPPL + IFD scan of 4 GSM8K strategies (``../shared/data/sppl-gsm8k``, read in
place) with the packaged target, run through the real scan core. At every progress report
the time left is computed as a job page computes it (``app.jobs.eta.time_left``: the current
phase's own rate, its clock started when the phase's first report came, units served from
the cache at that moment not counted) and compared, once the scan has ended, with the time
the phase then really took to finish. Run once quiet, then again with ``--burners`` busy
processes spinning on the same cores (another job, a second test suite); the score cache is
empty each time, so both runs do the same work.

Printed per condition: wall seconds, reports compared, the share of them within +-30% of
what then happened (reports in the phase's first 10% are left out: no rate exists yet),
the median and the 90th percentile of the absolute relative error, and how many reports
said 0 s while work remained (must be 0). Last line: one JSON object.

    flock /tmp/cpu.lock .venv/bin/python bench/eta_bench.py [--questions 16] [--burners 2]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.jobs.eta import phase_progress, time_left  # noqa: E402
from app.specs.scan import ScanSpec  # noqa: E402
from tests.paths import GSM8K_DIR  # noqa: E402

STRATEGIES = ["train_filtered", "gpt4", "claude", "mini_gpt4"]
MODEL = "packaged:SmolLM2-135M-Instruct"
TOLERANCE = 0.30
WARMUP = 0.10  # a phase's first 10% of units: its own rate does not exist yet


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--questions", type=int, default=16, help="scanned questions (and pool)")
    p.add_argument("--burners", type=int, default=2, help="busy processes in the loaded run")
    p.add_argument("--quiet-only", action="store_true", help="skip the loaded run")
    return p.parse_args()


def spin() -> None:
    while True:
        pass


def load_data(n: int) -> tuple[list, dict[str, dict[str, str]]]:
    files = {s: json.loads((GSM8K_DIR / f"{s}.json").read_text()) for s in STRATEGIES}
    base = files["gpt4"][: n * 2]
    questions = [(f"q{i}", r["question"], r["gold_label"]) for i, r in enumerate(base)]
    responses = {s: {f"q{i}": files[s][i]["answer"] for i in range(len(base))} for s in files}
    return questions, responses


def run_once(target, questions, responses, n: int) -> tuple[float, list[dict]]:  # type: ignore[no-untyped-def]
    """One scan; every report with the time left a page would show then."""
    from workers.scoring.cache import MemoryCache
    from workers.scoring.scan import run_scan

    spec = ScanSpec(
        metrics=["ppl", "sppl", "ifd"],
        sample=n,
        pool=n,
        examples=2,
        seed=0,
        allow_unfiltered_fallback=True,  # the 135M target rarely answers GSM8K right
    )
    reports: list[dict] = []
    phase: dict = {}

    def on_progress(name: str, done: int, total: int, extra: dict) -> None:
        now = time.perf_counter()
        if phase.get("name") != name:
            phase.update(name=name, start=now, done0=done)
        progress = phase_progress(
            done, total, extra, now - phase["start"], done_at_start=phase["done0"]
        )
        left = time_left(progress)
        reports.append({"phase": name, "done": done, "total": total, "at": now, "left": left})

    start = time.perf_counter()
    run_scan(spec, target, questions, responses, on_progress=on_progress, cache=MemoryCache())
    return time.perf_counter() - start, reports


def errors(reports: list[dict]) -> tuple[list[tuple[str, float]], int]:
    """Relative errors of the shown time left against the phase's real rest; zeros shown."""
    ends: dict[str, float] = {}
    for r in reports:
        if r["done"] >= r["total"] > 0:
            ends.setdefault(r["phase"], r["at"])
    rel, zeros = [], 0
    for r in reports:
        remaining = r["total"] - r["done"]
        if remaining <= 0 or r["phase"] not in ends or r["phase"] == "done":
            continue
        if r["left"] is not None and r["left"] <= 0:
            zeros += 1
        if r["left"] is None or r["done"] < WARMUP * r["total"]:
            continue
        real = ends[r["phase"]] - r["at"]
        if real > 1.0:  # under a second the page shows "finishing" anyway
            rel.append((r["phase"], abs(r["left"] - real) / real))
    return rel, zeros


def summarise(label: str, wall: float, reports: list[dict]) -> dict:
    by_phase, zeros = errors(reports)
    rel = [e for _, e in by_phase]
    phases = {p: [e for q, e in by_phase if q == p] for p in dict.fromkeys(p for p, _ in by_phase)}
    within = sum(e <= TOLERANCE for e in rel) / len(rel) if rel else float("nan")
    p90 = sorted(rel)[int(0.9 * (len(rel) - 1))] if rel else float("nan")
    row = {
        "condition": label,
        "wall_s": round(wall, 1),
        "reports": len(rel),
        "within_30pct": round(within, 3),
        "median_err": round(statistics.median(rel), 3) if rel else None,
        "p90_err": round(p90, 3),
        "zero_shown": zeros,
        "phases": {
            p: {
                "reports": len(es),
                "within_30pct": round(sum(e <= TOLERANCE for e in es) / len(es), 3),
            }
            for p, es in phases.items()
        },
    }
    print(
        f"{label:8s} {row['wall_s']:7.1f} s  {row['reports']:4d} reports  "
        f"within 30%: {100 * within:5.1f}%  median err {row['median_err']}  "
        f"p90 err {row['p90_err']}  zero shown {zeros}"
    )
    for p, v in row["phases"].items():
        print(f"    {p:12s} {v['reports']:4d} reports  within 30%: {100 * v['within_30pct']:5.1f}%")
    return row


def main() -> None:
    args = parse_args()
    from workers.modeling import load_target

    target = load_target(MODEL, cache_dir=ROOT / ".familiar" / "test-models")
    questions, responses = load_data(args.questions)
    rows = [summarise("quiet", *run_once(target, questions, responses, args.questions))]
    if args.quiet_only:
        print(json.dumps({"dtype": target.dtype, "questions": args.questions, "rows": rows}))
        return
    burners = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.burners)]
    for b in burners:
        b.start()
    try:
        loaded = run_once(target, questions, responses, args.questions)
    finally:
        for b in burners:
            b.terminate()
            b.join()
    rows.append(summarise(f"loaded x{args.burners}", *loaded))
    print(json.dumps({"dtype": target.dtype, "questions": args.questions, "rows": rows}))


if __name__ == "__main__":
    main()
