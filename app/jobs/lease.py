"""Who holds a running job: ``host:pid`` of the worker process, and whether it still lives.

A lease is renewed by the worker's heartbeat. It ends when the heartbeat is older than the
stale period, or at once when the holder ran on this host and its process is gone (a
restarted embedded ``familiar serve`` resumes its jobs without waiting). Pages show a job
as "worker lost" sooner than that: at once when its process on this host is gone, and on
another host when the heartbeat missed ``LOST_AFTER_BEATS`` beats in a row.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime

import psutil

from app.config import Settings, get_settings

LOST_AFTER_BEATS = 3


@dataclass(frozen=True)
class Lease:
    """A claimed job: every write of the worker is fenced on (job id, attempt)."""

    job_id: int
    attempt: int
    owner: str


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def holder_is_gone(owner: str | None, started_at: datetime | None) -> bool:
    """True when ``owner`` ran on this host and that process no longer exists.

    A pid reused by a younger process counts as gone (it started after the job).
    """
    if not owner or ":" not in owner:
        return False
    host, _, pid_text = owner.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        proc = psutil.Process(int(pid_text))
        if proc.status() == psutil.STATUS_ZOMBIE:
            return True
        created = proc.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return True
    return started_at is not None and created > started_at.timestamp() + 1.0


def heartbeat_interval(settings: Settings | None = None) -> float:
    """How often a worker renews its lease: JOB_HEARTBEAT_S, at most a quarter of the stale
    period (so a few missed beats never cost the lease)."""
    settings = settings or get_settings()
    return min(settings.job_heartbeat_s, settings.job_stale_after_s / 4)


def lost_reason(
    owner: str | None, started_at: datetime | None, heartbeat_age_s: float | None
) -> str | None:
    """Why a running job's worker counts as lost, for the pages; None while it looks alive."""
    if holder_is_gone(owner, started_at):
        return f"its worker process ({owner}) is gone"
    limit = LOST_AFTER_BEATS * heartbeat_interval()
    if heartbeat_age_s is not None and heartbeat_age_s > limit:
        return f"no heartbeat for {heartbeat_age_s:.0f} s (one is due every {limit / 3:.0f} s)"
    return None
