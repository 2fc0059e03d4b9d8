from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class JobLink(BaseModel):
    label: str
    url: str


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
    sent_at: datetime | None = Field(
        default=None, description="When the job's id reached the queue broker (null: not yet)"
    )
    started_at: datetime | None
    finished_at: datetime | None
    elapsed_s: float | None
    eta_s: float | None = Field(
        description="Running: seconds left, median of its recent estimates (app.jobs.eta_window)"
    )
    eta_low_s: float | None = Field(
        default=None, description="Running: the low end of the time left's recent range"
    )
    eta_high_s: float | None = Field(
        default=None, description="Running: the high end of the time left's recent range"
    )
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
    about: str | None = Field(default=None, description="What it works on, in a line")
    links: list[JobLink] = Field(default=[], description="What it belongs to")
    waiting_for_queue: bool = Field(
        default=False,
        description="Queued, but the queue broker was away when it was created: it is sent "
        "as soon as the broker answers again",
    )

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed", "cancelled")

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running", "cancelling")

    @property
    def status_label(self) -> str:
        """The status as pages say it."""
        return "waiting for the queue" if self.waiting_for_queue else self.status


class JobPage(BaseModel):
    job: JobRead


JobSort = Literal["created", "kind", "status", "project", "duration"]
SortOrder = Literal["asc", "desc"]


class JobsPage(BaseModel):
    """Jobs across the projects you may read, newest first, filtered and paged."""

    items: list[JobRead]
    total: int
    page: int
    pages: int
    per_page: int
    status: str | None = None
    kind: str | None = None
    project_id: int | None = None
    project_names: dict[int, str] = Field(default={}, description="Project id -> its name")
    counts: dict[str, int] = Field(
        default={}, description="Jobs per status (all filters but status)"
    )
    sort: JobSort = Field(default="created", description="The column the jobs are sorted by")
    order: SortOrder = Field(default="desc", description="asc or desc")
