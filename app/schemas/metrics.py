"""Imported metrics (issue 13): the metrics page, its upload result, the result-page section."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.schemas.projects import ProjectRead


class ImportedMetricRead(BaseModel):
    name: str
    lower_is_better: bool
    per: Literal["question", "strategy"]
    source_filename: str = Field(description="The file it was imported from")
    created_at: datetime = Field(description="When it was imported")
    n_values: int
    n_samples: int = Field(description="Disjoint question samples (1: one sample)")
    means: dict[str, float] = Field(description="Strategy -> mean over its values")


class MetricUploadResult(BaseModel):
    filename: str
    metrics: list[ImportedMetricRead]
    replaced: list[str] = Field(description="Imported metrics of the same name that it replaced")


class MetricsPage(BaseModel):
    project: ProjectRead
    metrics: list[ImportedMetricRead]
    built_in: list[str] = Field(description="Names an imported metric may not take")


class ImportedRanking(BaseModel):
    """An imported metric beside the scan's own: ranked over the scan's strategies."""

    name: str
    label: str
    lower_is_better: bool
    per: Literal["question", "strategy"]
    source: str = Field(description="'imported from <file>, <time>'")
    source_filename: str
    created_at: datetime
    ranking: dict[str, Any] = Field(
        description="app.stats.ranking.rank_strategies().to_dict() (per question: with "
        "paired tests; per strategy: means only)"
    )
    samples: dict[str, Any] | None = Field(
        default=None, description="app.stats.samples.picks_from_means, when K > 1 samples"
    )


class ImportedSection(BaseModel):
    metrics: list[ImportedRanking]
    agreement: dict[str, Any] | None = Field(
        description="app.stats.agreement.metric_agreement over the scan's and the imported "
        "metrics' strategy means"
    )
    labels: dict[str, str] = Field(
        default_factory=dict,
        description="Every metric the agreement names (the scan's and the imported), with its "
        "label",
    )
