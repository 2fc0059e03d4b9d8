"""A steadier time left and an honest range, from the estimates of the last few seconds.

``app.jobs.eta.time_left`` answers from one report: the job's rate so far in its phase, or
the decoder's expected time left from its last 16 steps. On a busy machine the model's
threads get a share of the cores that changes from second to second, and one report's
answer jumps with it (the page showed 98 -> 71 -> 79 -> 46 s). Here each report's answer is
kept as a predicted end (report time + time left) for ``WINDOW_S`` seconds of the phase:
the point shown is the median of those ends (one report's jump moves it little; a lasting
change of speed moves it within half a window), and the range spans the earliest and the
latest of them, at least ``WIDEN`` either side of the point: what the job's own estimates
said lately, not a promise. ``bench/eta_bench.py`` measures both (window, widening and
their effect on recorded runs: the README, ``tests/jobs/test_eta_window.py``).

The worker keeps the marks (``JobContext.progress``, in the progress extra as
``eta_marks``: ``[report epoch, predicted end epoch]`` pairs, cleared when a phase starts);
the page adds its own answer at render time, so a job that stopped reporting still counts
down. While work remains no bound is below ``FLOOR_S``.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from app.jobs.eta import FLOOR_S

WINDOW_S = 10.0  # seconds of recent estimates that the point and the range come from
WIDEN = 0.15  # the range reaches at least this share of the point on each side
MAX_MARKS = 40  # marks come from written reports only: at most 2 a second (JobContext)

Marks = list[list[float]]  # [report epoch, predicted end epoch], oldest first


@dataclass(frozen=True)
class TimeLeft:
    seconds: float
    low: float
    high: float


def remember(marks: Sequence[Sequence[float]], at: float, left: float | None) -> Marks:
    """The marks with this report's answer added and those older than ``WINDOW_S`` dropped
    (a new list; an answer of None adds nothing)."""
    kept = [[float(a), float(e)] for a, e in marks if a >= at - WINDOW_S and a <= at]
    if left is not None:
        kept.append([round(at, 3), round(at + left, 3)])
    return kept[-MAX_MARKS:]


def steadied(marks: Sequence[Sequence[float]], now: float, left: float | None) -> TimeLeft | None:
    """The time left shown at ``now``: the median predicted end of the recent marks and of
    ``left`` (the answer at ``now``), with the range they span. None when ``left`` is None
    (nothing to say, or only saving remains)."""
    if left is None:
        return None
    ends = [e for a, e in marks if now - WINDOW_S <= a <= now] + [now + left]
    seconds = max(statistics.median(ends) - now, FLOOR_S)
    low = max(min(min(ends) - now, seconds * (1 - WIDEN)), FLOOR_S)
    high = max(max(ends) - now, seconds * (1 + WIDEN), FLOOR_S)
    return TimeLeft(seconds=seconds, low=low, high=high)


def marks_of(extra: object) -> Marks:
    """The marks in a job's progress extra; anything malformed is ignored (no marks)."""
    raw = extra.get("eta_marks") if isinstance(extra, dict) else None
    if not isinstance(raw, list):
        return []
    good = [m for m in raw if isinstance(m, list | tuple) and len(m) == 2]
    try:
        return [[float(a), float(e)] for a, e in good]
    except (TypeError, ValueError):
        return []
