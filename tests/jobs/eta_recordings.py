"""Replaying a job's recorded progress reports as its page would show them, and scoring what
was shown against what then happened (``bench/eta_bench.py`` records and scores real scans;
``tests/jobs/test_eta_window.py`` scores the recordings kept under ``tests/data/eta``).

A recording is ``[phase, done, total, seconds since the run started, extra]`` per report,
``extra`` holding what ``app.jobs.eta`` reads. At each report the page's answer is computed
as the job page computes it: the phase's clock starts at its first report, and the units
done then are not counted as its own work; the marks are kept as ``JobContext`` keeps them.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.jobs.eta import phase_progress, time_left
from app.jobs.eta_window import remember, steadied

TOLERANCE = 0.30
WARMUP = 0.10  # a phase's first 10% of units: its own rate does not exist yet
Report = Sequence[Any]  # [phase, done, total, at, extra]


@dataclass(frozen=True)
class Shown:
    phase: str
    at: float
    real: float | None  # seconds the phase then took to finish; None: it never finished
    remaining: int
    warm: bool  # past the phase's first WARMUP of units
    raw: float | None  # one report's answer (app.jobs.eta.time_left)
    seconds: float | None  # what the page shows (app.jobs.eta_window.steadied)
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Score:
    compared: int
    within: float  # share of shown points within TOLERANCE of what then happened
    median_err: float
    p90_err: float
    inside: float  # share of shown ranges that held what then happened
    raw_within: float  # the same share for one report's answer (before the steadying)
    raw_median_err: float
    zero_shown: int  # reports that said 0 s (or nothing below a second) while work remained


def load(path: Path) -> list[Report]:
    return json.loads(path.read_text())["reports"]


def replay(reports: Sequence[Report]) -> list[Shown]:
    ends: dict[str, float] = {}
    for name, done, total, at, _ in reports:
        if done >= total > 0:
            ends.setdefault(name, at)
    shown, phase, marks = [], None, []
    start = done0 = 0
    for name, done, total, at, extra in reports:
        if name != phase:
            phase, start, done0, marks = name, at, done, []
        raw = time_left(phase_progress(done, total, extra, at - start, done_at_start=done0))
        now = steadied(marks, at, raw)
        marks = remember(marks, at, raw)
        end = ends.get(name)
        shown.append(
            Shown(
                phase=name,
                at=at,
                real=None if end is None else end - at,
                remaining=total - done,
                warm=done >= WARMUP * total,
                raw=raw,
                seconds=now.seconds if now else None,
                low=now.low if now else None,
                high=now.high if now else None,
            )
        )
    return shown


def _rel(value: float, real: float) -> float:
    return abs(value - real) / real


def score(shown: Sequence[Shown]) -> Score:
    """Reports in a phase's warm-up, past its end or with under a second left are not
    compared (under a second the page shows "finishing" anyway)."""
    working = [s for s in shown if s.remaining > 0 and s.phase != "done" and s.real is not None]
    zeros = sum(s.seconds is not None and s.seconds < 1.0 for s in working)
    rows = [s for s in working if s.warm and s.seconds is not None and s.real > 1.0]
    err = sorted(_rel(s.seconds, s.real) for s in rows)  # type: ignore[arg-type]
    raw = [_rel(s.raw, s.real) for s in rows if s.raw is not None]  # type: ignore[arg-type]
    inside = [s.low <= s.real <= s.high for s in rows]  # type: ignore[operator]
    if not rows:
        raise ValueError("no report to compare: the recording has no finished phase")
    return Score(
        compared=len(rows),
        within=sum(e <= TOLERANCE for e in err) / len(err),
        median_err=statistics.median(err),
        p90_err=err[int(0.9 * (len(err) - 1))],
        inside=sum(inside) / len(inside),
        raw_within=sum(e <= TOLERANCE for e in raw) / len(raw),
        raw_median_err=statistics.median(raw),
        zero_shown=zeros,
    )
