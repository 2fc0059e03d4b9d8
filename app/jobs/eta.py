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
"""

from __future__ import annotations

from dataclasses import dataclass

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


def time_left(p: PhaseProgress) -> float | None:
    """Seconds left, or None when nothing can be said (or only saving remains)."""
    remaining = p.total - p.done
    if p.total <= 0 or remaining <= 0:
        return None
    units = p.done - p.done_at_start
    own = None
    if units > 0 and p.phase_elapsed_s is not None and p.phase_elapsed_s >= MIN_OBSERVED_S:
        own = p.phase_elapsed_s / units * remaining
    if own is None:
        estimate = None if p.prior_s is None else p.prior_s + p.later_s
        return None if estimate is None else max(estimate, FLOOR_S)
    weight = units / (units + HANDOFF)
    now = own if p.prior_s is None else weight * own + (1 - weight) * p.prior_s
    slowdown = own / p.prior_s if p.prior_s else 1.0
    return max(now + p.later_s * slowdown, FLOOR_S)
