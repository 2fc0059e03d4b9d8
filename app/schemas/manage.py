"""Renaming and deleting projects, strategies and scans: inputs and the confirmation page."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Kind = Literal["project", "strategy", "scan"]


class ProjectRename(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20000)


class StrategyRename(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class ScanRename(BaseModel):
    label: str = Field(max_length=200, description="Empty: the scan is called 'Scan N' again")


class DeletionPreview(BaseModel):
    """What a deletion removes (the confirmation page and its JSON twin)."""

    kind: Kind
    id: int
    project_id: int
    project_name: str
    name: str
    removes: dict[str, int] = Field(description="Rows removed with it, by kind")
    scans: list[int] = Field(
        description="Scans removed with it (for a strategy: those that "
        "scored it, whose results would no longer add up)"
    )
    blocked: str | None = Field(description="Why it cannot be deleted now, or None")
    keeps: str = Field(description="What the deletion leaves alone")
    back_url: str
    delete_url: str
