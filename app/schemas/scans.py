from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from app.schemas.jobs import JobRead

Metric = Literal["ppl", "sppl", "ifd"]
METRICS: tuple[str, ...] = ("ppl", "sppl", "ifd")


class ScanCreate(BaseModel):
    """Settings of a familiarity scan; stored verbatim with the scan and its job."""

    metrics: list[Metric] = Field(default=["ppl", "sppl", "ifd"], min_length=1)
    sample: int = Field(
        default=50, ge=1, le=100000, description="Questions scored, the same for every strategy"
    )
    examples: int = Field(
        default=3, ge=1, le=5, description="Own correct answers shown as style examples (SPPL)"
    )
    pool: int = Field(
        default=500,
        ge=1,
        le=100000,
        description="Questions the target answers itself to find its correct answers",
    )
    template: Literal["chat", "inst"] = Field(
        default="chat", description="Target's chat template, or the reference [INST] wrapping"
    )
    dtype: Literal["auto", "bfloat16", "float32"] = "auto"
    seed: int = Field(default=0, ge=0, description="Seed of the question sample and the bootstrap")
    filter_correct: bool = Field(
        default=True, description="Keep only correct own answers as SPPL examples"
    )
    allow_unfiltered_fallback: bool = Field(
        default=False, description="When too few own answers are correct, use unfiltered ones"
    )
    max_new_tokens: int = Field(
        default=320, ge=8, le=4096, description="Longest own answer generated (SPPL pool)"
    )
    model: str | None = Field(
        default=None, max_length=500, description="Target model; default the project's"
    )
    strategy_ids: list[int] | None = Field(
        default=None, description="Strategies to scan; default all"
    )

    @field_validator("metrics")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        return [m for m in METRICS if m in v]


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
