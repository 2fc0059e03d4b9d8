from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    queue: str
    project_id: int | None
    status: str
    phase: str
    done: int
    total: int
    percent: float | None
    progress_extra: dict[str, Any]
    error: str | None
    log: str
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    elapsed_s: float | None
    eta_s: float | None
    result: dict[str, Any] | None
    spec: dict[str, Any]
    owner: str | None = Field(default=None, description="Lease holder (host:pid) while running")
    heartbeat_age_s: float | None = Field(
        default=None, description="Seconds since the worker's last heartbeat (running jobs)"
    )
    worker_lost: bool = Field(
        default=False,
        description="The worker holding this running job is gone: its process on this host "
        "no longer exists, or it missed 3 heartbeats (JOB_HEARTBEAT_S) in a row",
    )
    worker_lost_reason: str | None = Field(default=None, description="Why worker_lost is set")
    cancellable: bool = False

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed", "cancelled")

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running", "cancelling")


class JobPage(BaseModel):
    job: JobRead
