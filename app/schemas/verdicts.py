"""Whose verdicts count: a human verdict on one response, the project's choice of source."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class VerdictsFromSet(BaseModel):
    verdicts_from: Literal["judge", "file"] = Field(
        description="judge: Familiar's judge decides; file: the uploads' own `correct` field "
        "decides where a response carries one (a human verdict always wins)"
    )


class VerdictsFromRead(BaseModel):
    project_id: int
    verdicts_from: str
    n_settled: int = Field(description="Responses whose verdict was set again")
