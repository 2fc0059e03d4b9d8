"""Job states and the transitions between them.

A job is ``queued`` until a worker claims it (``running``). A running job ends
``succeeded`` or ``failed``; a cancel request moves it to ``cancelling`` (the worker sees
it with its next heartbeat or progress report and stops) and then ``cancelled``. A queued
job that is cancelled ends at once. A running job whose lease expired goes back to
``queued`` with its attempt number kept, so the next claim is attempt n + 1 and every write
of the old attempt is refused.
"""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


ACTIVE = frozenset({JobState.RUNNING, JobState.CANCELLING})  # a worker holds the lease
TERMINAL = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})
UNFINISHED = frozenset({JobState.QUEUED, *ACTIVE})

TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({JobState.RUNNING, JobState.CANCELLED}),
    JobState.RUNNING: frozenset(
        {JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLING, JobState.QUEUED}
    ),
    JobState.CANCELLING: frozenset(
        {JobState.CANCELLED, JobState.SUCCEEDED, JobState.FAILED, JobState.QUEUED}
    ),
    JobState.CANCELLED: frozenset(),
    JobState.SUCCEEDED: frozenset(),
    JobState.FAILED: frozenset(),
}


def can_move(current: str, target: str) -> bool:
    """Whether ``current -> target`` is a transition of the state machine."""
    return JobState(target) in TRANSITIONS[JobState(current)]


def sources(target: JobState) -> list[str]:
    """Every state from which ``target`` can be reached (for fenced UPDATEs)."""
    return [s.value for s, targets in TRANSITIONS.items() if target in targets]
