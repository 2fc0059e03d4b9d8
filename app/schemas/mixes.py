"""A per-question mix: one strategy made of, per question, the response the target found
most familiar in a finished scan (app.services.mixes)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.schemas.results import ReportMetric


class MixRequest(BaseModel):
    metric: ReportMetric = Field(
        description="A familiarity metric of the scan with per-question values (ppl, sppl, ifd)"
    )
    name: str | None = Field(
        default=None,
        max_length=200,
        description="The new strategy's name (default: 'per-question SPPL mix (scan 3)')",
    )


class MixSource(BaseModel):
    strategy_id: int
    name: str
    n: int = Field(description="Questions whose response comes from this strategy")


class MixResult(BaseModel):
    strategy_id: int = Field(description="The new strategy holding the mix")
    name: str
    scan_id: int
    metric: str
    lower_is_better: bool
    n_questions: int = Field(description="Questions in the mix: scored for every strategy")
    n_incomplete: int = Field(
        description="Questions the scan scored for some strategies but not all: left out"
    )
    n_left_out: int = Field(description="The project's questions not in the mix")
    sources: list[MixSource]
    job_id: int = Field(description="The analysis job (token counts, answer checks)")
    note: str
