"""Time left of a running job: from its own progress rate once it has one.

An estimate made before a job starts comes from rates measured by earlier jobs, possibly on
a quieter machine. Once the job has reported progress in its current phase, its own rate
says how fast this machine is now, busy or not: the time left moves from the prior estimate
to the job's own projection as units finish (``units / (units + HANDOFF)`` of the weight
on its own), and the later phases' prior is scaled by the same slowdown. The phase's clock
starts when the phase does (``JobContext.progress`` records it), so one phase's time never
counts against another's units. While work remains the answer is never 0 (at least
``FLOOR_S``); with every unit done and the job still running (saving) it is None: the
page says "finishing", not "0 s left".

Items are not equal work: scoring batches items by length (longest first inside a chunk,
chunks by prefix length), so a projection in items runs ahead or behind by the batch
order. Where a phase also reports its work in tokens (``work_done``/``work_total`` in its
progress extra: the tokens the model processes, planned before it starts), the rate is
taken per token and the items only weigh the handoff. Greedy decoding reports its own
expected time left, measured per decoding step in this phase (``eta_live``,
``workers.scoring.decoding_eta``): that is the job's own rate already and is taken as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

HANDOFF = 3.0  # units of the job's own progress at which its rate gets half the weight
FLOOR_S = 1.0
MIN_OBSERVED_S = 1.0  # a rate from less than a second of work is noise


@dataclass(frozen=True)
class PhaseProgress:
    done: int
    total: int
    done_at_start: int  # units already done when the phase's clock started (resumed work)
    phase_elapsed_s: float | None  # since the phase started; None when not recorded
    prior_s: float | None = None  # the worker's own estimate of this phase's time left
    later_s: float = 0.0  # prior estimate of the phases after this one
    work_done: float | None = None  # the phase's work in its own measure (tokens), if known
    work_total: float | None = None
    prior_is_live: bool = False  # prior_s was measured in this phase (decoding steps)


def phase_progress(
    done: int,
    total: int,
    extra: Mapping[str, Any],
    phase_elapsed_s: float | None,
    *,
    done_at_start: int | None = None,
) -> PhaseProgress:
    """A phase's progress as a job reports it (``done``/``total`` and its progress extra)."""
    prior = extra.get("eta_s")
    work_done, work_total = extra.get("work_done"), extra.get("work_total")
    if done_at_start is None:
        done_at_start = int(extra.get("phase_done0") or 0)
    return PhaseProgress(
        done=done,
        total=total,
        done_at_start=done_at_start,
        phase_elapsed_s=phase_elapsed_s,
        prior_s=float(prior) if prior is not None else None,
        work_done=float(work_done) if work_done is not None else None,
        work_total=float(work_total) if work_total is not None else None,
        prior_is_live=bool(extra.get("eta_live")),
    )


def _own_projection(p: PhaseProgress, units: int, remaining: int) -> float | None:
    """The phase's own projection: per unit of work where it has one, else per item."""
    if p.phase_elapsed_s is None or p.phase_elapsed_s < MIN_OBSERVED_S:
        return None
    if p.work_done and p.work_total and p.work_total > p.work_done:
        return p.phase_elapsed_s / p.work_done * (p.work_total - p.work_done)
    if units > 0:
        return p.phase_elapsed_s / units * remaining
    return None


def time_left(p: PhaseProgress) -> float | None:
    """Seconds left, or None when nothing can be said (or only saving remains)."""
    remaining = p.total - p.done
    if p.total <= 0 or remaining <= 0:
        return None
    if p.prior_is_live and p.prior_s is not None:
        return max(p.prior_s + p.later_s, FLOOR_S)
    units = p.done - p.done_at_start
    own = _own_projection(p, units, remaining)
    if own is None:
        estimate = None if p.prior_s is None else p.prior_s + p.later_s
        return None if estimate is None else max(estimate, FLOOR_S)
    weight = max(units, 1 if p.work_done else 0) / (max(units, 1) + HANDOFF)
    now = own if p.prior_s is None else weight * own + (1 - weight) * p.prior_s
    slowdown = own / p.prior_s if p.prior_s else 1.0
    return max(now + p.later_s * slowdown, FLOOR_S)
