"""Benchmark: how close "time left" lands, on a quiet machine and on a busy one.

A PPL + SPPL + IFD scan of 4 GSM8K strategies (``../shared/data/sppl-gsm8k``, read in
place) with the packaged target, run through the real scan core. At every progress report
the time left is computed as a job page computes it (``app.jobs.eta.time_left``: the current
phase's own rate, its clock started when the phase's first report came, units served from
the cache at that moment not counted) and compared, once the scan has ended, with the time
the phase then really took to finish. Run once quiet, then again with ``--burners`` busy
processes spinning on the same cores (another job, a second test suite); the score cache is
empty each time, so both runs do the same work.

The time left is what the page shows (``app.jobs.eta_window``: the median of the phase's
recent estimates, and their range), replayed from the run's recorded reports
(``tests/jobs/eta_recordings.py``); ``--record DIR`` keeps them (``tests/data/eta``: the
fixtures the tests score). Printed per condition: wall seconds, reports compared, the share
of them within +-30% of what then happened (reports in the phase's first 10% are left out: no
rate exists yet), the same share for one report's own answer (``app.jobs.eta.time_left``,
before the steadying), the median and the 90th percentile of the absolute relative error,
the share of shown ranges that held what then happened, and how many reports said 0 s while
work remained (must be 0). Last line: one JSON object.

    flock /tmp/cpu.lock .venv/bin/python bench/eta_bench.py [--questions 16] [--burners 2] \
        [--record tests/data/eta]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.specs.scan import ScanSpec  # noqa: E402
from tests.jobs.eta_recordings import replay, score  # noqa: E402
from tests.paths import GSM8K_DIR  # noqa: E402

STRATEGIES = ["train_filtered", "gpt4", "claude", "mini_gpt4"]
MODEL = "packaged:SmolLM2-135M-Instruct"
RECORDED = ("eta_s", "eta_live", "work_done", "work_total")  # what time_left reads


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--questions", type=int, default=16, help="scanned questions (and pool)")
    p.add_argument("--burners", type=int, default=2, help="busy processes in the loaded run")
    p.add_argument("--quiet-only", action="store_true", help="skip the loaded run")
    p.add_argument("--loaded-only", action="store_true", help="skip the quiet run")
    p.add_argument(
        "--record", type=Path, help="write each run's progress reports here (tests/data fixtures)"
    )
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


def run_once(target, questions, responses, n: int, reports: list[list]) -> None:  # type: ignore[no-untyped-def]
    """One scan; every progress report into ``reports`` as ``[phase, done, total, at,
    extra]``."""
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
    start = time.perf_counter()

    def on_progress(name: str, done: int, total: int, extra: dict) -> None:
        at = round(time.perf_counter() - start, 3)
        reports.append([name, done, total, at, {k: extra[k] for k in RECORDED if k in extra}])

    run_scan(spec, target, questions, responses, on_progress=on_progress, cache=MemoryCache())


def summarise(label: str, wall: float, reports: list[list]) -> dict:
    shown = replay(reports)
    total = score(shown)
    phases = {
        p: score([s for s in shown if s.phase == p])
        for p in dict.fromkeys(r[0] for r in reports)
        if p != "done" and any(s.phase == p and s.warm and (s.real or 0) > 1 for s in shown)
    }
    row = {
        "condition": label,
        "wall_s": round(wall, 1),
        "reports": total.compared,
        "within_30pct": round(total.within, 3),
        "median_err": round(total.median_err, 3),
        "p90_err": round(total.p90_err, 3),
        "inside_range": round(total.inside, 3),
        "one_report_within_30pct": round(total.raw_within, 3),
        "one_report_median_err": round(total.raw_median_err, 3),
        "zero_shown": total.zero_shown,
        "phases": {
            p: {
                "reports": v.compared,
                "within_30pct": round(v.within, 3),
                "inside_range": round(v.inside, 3),
            }
            for p, v in phases.items()
        },
    }
    print(
        f"{label:10s} {wall:6.1f} s  {total.compared:4d} reports  "
        f"within 30%: {100 * total.within:5.1f}% (one report's answer: "
        f"{100 * total.raw_within:5.1f}%)  median err {total.median_err:.3f} "
        f"({total.raw_median_err:.3f})  p90 err {total.p90_err:.3f}  "
        f"inside range: {100 * total.inside:5.1f}%  zero shown {total.zero_shown}"
    )
    for p, v in phases.items():
        print(
            f"    {p:12s} {v.compared:4d} reports  within 30%: {100 * v.within:5.1f}%  "
            f"inside range: {100 * v.inside:5.1f}%"
        )
    return row


def record(folder: Path | None, label: str, wall: float, reports: list[list]) -> None:
    """One run's reports as a fixture (tests/data/eta)."""
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{label}_{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"condition": label, "wall_s": round(wall, 1), "reports": reports}))
    print(f"recorded {len(reports)} reports in {path}")


def measure(args: argparse.Namespace, target, questions, responses, burners: int) -> dict:  # type: ignore[no-untyped-def]
    """One condition: a scan with ``burners`` busy processes beside it. Its reports are
    recorded even when the run is stopped (``timeout`` sends SIGTERM): the phases that
    ended by then are scored."""
    label = "quiet" if burners == 0 else f"loaded{burners}"
    spinning = [multiprocessing.Process(target=spin, daemon=True) for _ in range(burners)]
    for b in spinning:
        b.start()
    reports: list[list] = []
    start = time.perf_counter()
    try:
        run_once(target, questions, responses, args.questions, reports)
    finally:
        for b in spinning:
            b.terminate()
            b.join()
        wall = time.perf_counter() - start
        record(args.record, f"{label}_q{args.questions}", wall, reports)
    return summarise(label, wall, reports)


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # finally: record what ran
    from workers.modeling import load_target

    target = load_target(MODEL, cache_dir=ROOT / ".familiar" / "test-models")
    questions, responses = load_data(args.questions)
    conditions = [0] * (not args.loaded_only) + [args.burners] * (not args.quiet_only)
    rows = [measure(args, target, questions, responses, b) for b in conditions]
    print(json.dumps({"dtype": target.dtype, "questions": args.questions, "rows": rows}))


if __name__ == "__main__":
    main()
