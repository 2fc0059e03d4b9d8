from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.schemas.jobs import JobRead


class ScanRead(BaseModel):
    id: int
    project_id: int
    status: str
    model_name: str
    model_key: str
    spec: dict[str, Any]
    created_at: datetime
    finished_at: datetime | None
    job: JobRead | None
    label: str = Field(default="", description="The user's name for the scan (may be empty)")


class AggregateRow(BaseModel):
    strategy_id: int
    strategy: str
    n: int
    mean: float | None
    median: float | None
    std: float | None
    ci_low: float | None
    ci_high: float | None
    rank: int | None


class ScanList(BaseModel):
    scans: list[ScanRead]
