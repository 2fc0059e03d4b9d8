"""Whose verdicts count: a human verdict on one response, the project's choice of source."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class HumanVerdictSet(BaseModel):
    verdict: Literal["right", "wrong", "clear"] = Field(
        description="right or wrong (a human verdict); clear gives the response back to the "
        "project's source (Familiar's judge or the file)"
    )


class VerdictRead(BaseModel):
    response_id: int
    correct: bool | None = Field(description="The verdict that counts")
    verdict_source: str | None = Field(description="judge | not_judged | file | human")
    verdict_by: str | None = Field(description="Who set a human verdict")
    verdict_at: datetime | None = Field(description="When a human verdict was set")


class VerdictsFromSet(BaseModel):
    verdicts_from: Literal["judge", "file"] = Field(
        description="judge: Familiar's judge decides; file: the uploads' own `correct` field "
        "decides where a response carries one (a human verdict always wins)"
    )


class VerdictsFromRead(BaseModel):
    project_id: int
    verdicts_from: str
    n_settled: int = Field(description="Responses whose verdict was set again")
