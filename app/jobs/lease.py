"""Who holds a running job: ``host:pid`` of the worker process, and whether it still lives.

A lease is renewed by the worker's heartbeat. It ends when the heartbeat is older than the
stale period, or at once when the holder ran on this host and its process is gone (a
restarted embedded ``familiar serve`` resumes its jobs without waiting).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime

import psutil


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
