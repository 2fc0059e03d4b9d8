"""Time left from the job's own rate: recorded progress of a phase on a quiet and on a busy
machine (the prior estimate measured quiet), snapshots at 20/50/80 %: the time left lands
within 30 % of what then happens, and is never 0 while work remains."""

from __future__ import annotations

import pytest

from app.jobs.eta import FLOOR_S, PhaseProgress, time_left
from app.schemas.jobs import JobRead
from app.services.validations.page import training_left

QUIET_S_PER_UNIT = 0.5  # what earlier jobs measured on a quiet machine
TOTAL = 40


@pytest.mark.parametrize("slowdown", [1.0, 2.6, 0.7])  # quiet, busy (25.8 s vs 9 s), faster
def test_time_left_follows_the_jobs_own_rate(slowdown: float) -> None:
    per_unit = QUIET_S_PER_UNIT * slowdown
    for done in (8, 20, 32):
        snapshot = PhaseProgress(
            done=done,
            total=TOTAL,
            done_at_start=0,
            phase_elapsed_s=done * per_unit,
            prior_s=QUIET_S_PER_UNIT * (TOTAL - done),  # the worker's quiet-machine guess
        )
        actual = per_unit * (TOTAL - done)
        assert time_left(snapshot) == pytest.approx(actual, rel=0.3), (slowdown, done)


def test_later_phases_are_scaled_by_the_slowdown_seen_now() -> None:
    busy = PhaseProgress(
        done=30, total=40, done_at_start=0, phase_elapsed_s=30.0, prior_s=5.0, later_s=50.0
    )
    assert time_left(busy) == pytest.approx(10 * 0.9 + 5 * 0.1 + 50 * 2, rel=0.01)


def test_a_resumed_phase_counts_only_the_units_done_since_it_started() -> None:
    resumed = PhaseProgress(done=30, total=40, done_at_start=25, phase_elapsed_s=10.0)
    assert time_left(resumed) == pytest.approx(10 / 5 * 10)


def test_never_zero_while_work_remains_and_none_when_only_saving() -> None:
    fast = PhaseProgress(done=39, total=40, done_at_start=0, phase_elapsed_s=1.0, prior_s=0.0)
    assert time_left(fast) >= FLOOR_S
    assert time_left(PhaseProgress(done=40, total=40, done_at_start=0, phase_elapsed_s=9)) is None
    no_rate = PhaseProgress(done=0, total=40, done_at_start=0, phase_elapsed_s=0.2, prior_s=0.0)
    assert time_left(no_rate) == FLOOR_S


def _job(status: str, *, left: float | None = None, elapsed: float | None = None) -> JobRead:
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 1, 1, tzinfo=UTC)
    return JobRead(
        id=1,
        kind="validation_train",
        queue="gpu",
        project_id=1,
        status=status,
        phase="training",
        done=0,
        total=0,
        percent=None,
        progress_extra={"seconds_left": left} if left is not None else {},
        error=None,
        log="",
        attempts=1,
        created_at=start,
        started_at=start if status != "queued" else None,
        finished_at=start + timedelta(seconds=100) if status == "succeeded" else None,
        elapsed_s=elapsed,
        eta_s=None,
        result=None,
        spec={},
    )


def test_validation_time_left_counts_the_runs_still_waiting() -> None:
    # the demo: 1m 39s said while 3 more runs waited, each as long as the first
    jobs = [_job("succeeded"), _job("running", left=40, elapsed=60), *[_job("queued")] * 3]
    assert training_left(jobs) == pytest.approx(40 + 3 * 100)
    assert training_left([_job("queued")] * 2) is None  # nothing measured yet
    assert training_left([_job("succeeded")]) is None


def test_checkpoint_log_lines_are_rounded() -> None:
    from workers.jobs.validation import checkpoint_line

    line = checkpoint_line(40, 0.123456789012, 0.3333333333)
    assert line == "checkpoint at step 40: val loss 0.1235, val accuracy 33.3%"
    assert checkpoint_line(1, None, None).endswith("val loss –, val accuracy –")
