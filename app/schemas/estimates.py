"""Time estimates and the project's work queue."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.schemas.jobs import JobRead


class Rates(BaseModel):
    seconds_per_answer: float | None = Field(description="Own answer generated, measured here")
    seconds_per_item: float | None = Field(description="Response scored once, measured here")
    source: str = Field(description="Which finished jobs the rates come from")


class ScanEstimate(BaseModel):
    model: str
    items: int = Field(description="Responses x metrics components to score")
    answers_to_generate: int = Field(description="SPPL pool answers not generated yet")
    seconds: float | None = Field(description="None until this model has a measured rate")
    rates: Rates


class QueueEntry(BaseModel):
    job: JobRead
    seconds_left: float | None = Field(description="Running: its ETA; queued: its estimate")
    starts_in_s: float | None = Field(description="Queued: time until the jobs ahead end")
    waits_behind: list[int] = Field(description="Jobs ahead of it in its queue")
