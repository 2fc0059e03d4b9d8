"""The expected time left of batched greedy decoding, from the answers that ended so far.

A batch decodes until its longest answer stops (or ``max_new_tokens``), so what is left
depends on the length of answers nobody has seen yet. Counting finished answers says little
(short answers end first, in a burst, and the last few take most of the time) and the
honest upper bound (every row to ``max_new_tokens``) can be several times the truth. Here
the answer lengths of a batch are taken as roughly normal and fitted to what is known at
step ``s`` when ``k`` of ``n`` rows have ended: ``s`` is the ``k/n`` quantile and the median
of the ended lengths the ``k/2n`` quantile; the batch's last step is then the expected
largest of ``n`` draws, between ``s + 1`` and ``max_new``. Before two answers have ended
nothing can be fitted and the upper bound is given.

Small targets often never stop: the packaged 135M target ran 4 of 16 GSM8K own answers to
the 512-token cap, and those rows decide the batch's length. No fit of the ended lengths
sees them coming, so the expected last step mixes the fit with the cap: the chance that at
least one of the ``u`` unfinished rows runs to the cap is ``1 - (1 - r)^u``, with ``r``
the share of capped rows in earlier batches of the same call (``RUNAWAY_PRIOR`` before any
batch has ended, smoothed towards it with ``PRIOR_ROWS`` pseudo-rows).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from statistics import NormalDist

_Z = NormalDist()
RUNAWAY_PRIOR = 0.1  # share of rows that run to the cap, before a batch shows its own
PRIOR_ROWS = 4.0


def runaway_share(capped: int, ended: int) -> float:
    """The share of rows expected to run to the cap, from earlier batches of the call."""
    return (capped + RUNAWAY_PRIOR * PRIOR_ROWS) / (ended + PRIOR_ROWS)


def expected_last_step(
    ends: Sequence[int], rows: int, step: int, max_new: int, runaway: float = RUNAWAY_PRIOR
) -> float:
    """The step at which the batch's last row is expected to stop."""
    unfinished = rows - len(ends)
    fit = _fit(ends, rows, step)
    if fit is None:
        return float(max(ends, default=step)) if unfinished <= 0 else float(max_new)
    mu, sigma = fit
    last = mu + sigma * _Z.inv_cdf(1 - 0.5 / rows)
    fitted = min(max(last, step + 1.0), float(max_new))
    # a row still running at ``step`` is a runaway with the posterior chance (Bayes: the
    # fit's survival at ``step`` against the runaway share)
    survival = 1.0 - _Z.cdf((step - mu) / sigma)
    posterior = runaway / (runaway + (1.0 - runaway) * survival) if runaway > 0 else 0.0
    q = 1.0 - (1.0 - posterior) ** unfinished
    return (1.0 - q) * fitted + q * max_new


def _fit(ends: Sequence[int], rows: int, step: int) -> tuple[float, float] | None:
    """Mean and spread of a normal whose ``k/n`` quantile is ``step`` and ``k/2n`` quantile
    the median ended length; None while fewer than two rows (or all of them) have ended."""
    k = len(ends)
    if k < 2 or k >= rows:
        return None
    p = k / rows
    median = statistics.median(ends)
    spread = _Z.inv_cdf(p) - _Z.inv_cdf(p / 2)
    if step <= median or spread <= 0:
        return None
    sigma = (step - median) / spread
    return step - sigma * _Z.inv_cdf(p), sigma


def expected_seconds_left(
    ends: Sequence[int],
    rows: int,
    step: int,
    max_new: int,
    seconds_per_step: float,
    later_batches: int,
    runaway: float = RUNAWAY_PRIOR,
) -> float:
    """This batch's expected remaining steps, then each later batch as long as this one is
    expected to be, at the batch's average time per step so far."""
    last = expected_last_step(ends, rows, step, max_new, runaway)
    return seconds_per_step * (max(last - step, 0.0) + later_batches * last)
