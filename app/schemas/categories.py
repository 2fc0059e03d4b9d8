"""The per-category view of a scan (issue 13)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.schemas.projects import ProjectRead
from app.schemas.scans import ScanRead


class CategoryNote(BaseModel):
    """What the result page says about categories."""

    metric: str
    n_categories: int
    losses: list[str] = Field(description="Categories where the overall pick loses clearly")
    note: str | None = Field(description="The sentence the recommendation adds, if any")


class CategoryPage(BaseModel):
    project: ProjectRead
    scan: ScanRead
    metric: str = Field(description="The metric broken down (?metric=)")
    label: str
    metrics: list[str] = Field(description="The scan's familiarity metrics")
    lower_is_better: bool
    breakdown: dict[str, Any] | None = Field(
        description="app.stats.categories.category_breakdown; None when the scanned "
        "questions carry fewer than two categories"
    )
