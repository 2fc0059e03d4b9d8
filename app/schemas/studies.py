"""Studies across projects: what the API accepts and returns; StudyPage is the page's twin."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, StrictFloat, field_validator

from app.ids import RowId
from app.stats.studies import DEFAULT_THRESHOLDS, MetricSummary, ProjectRow

MAX_THRESHOLDS = 6


def _check_thresholds(values: list[float] | None) -> list[float] | None:
    if values is None:
        return None
    if len(values) > MAX_THRESHOLDS:
        raise ValueError(f"at most {MAX_THRESHOLDS} thresholds")
    if any(not 0 <= v <= 100 for v in values):
        raise ValueError("thresholds are spreads in accuracy points, from 0 to 100")
    return sorted(set(values))


class StudyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20000)
    project_ids: list[RowId] = Field(default_factory=list, description="The projects compared.")
    thresholds: list[StrictFloat] = Field(
        default_factory=lambda: list(DEFAULT_THRESHOLDS),
        description="Spreads (sample std of the strategies' accuracies, in points) above "
        "which the restricted rows keep a project.",
    )

    _thresholds = field_validator("thresholds")(_check_thresholds)

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a name is required")
        return value.strip()


class StudyUpdate(BaseModel):
    """Only the fields given change; ``project_ids`` replaces the whole list."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20000)
    project_ids: list[RowId] | None = None
    thresholds: list[StrictFloat] | None = None

    _thresholds = field_validator("thresholds")(_check_thresholds)


class StudyRead(BaseModel):
    id: int
    name: str
    description: str
    thresholds: list[float]
    project_ids: list[int]
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class StudyList(BaseModel):
    studies: list[StudyRead]


class CandidateProject(BaseModel):
    """A project a study can gather, with what it has to offer."""

    id: int
    name: str
    target_model: str
    n_with_accuracy: int = Field(description="Strategies with at least one accuracy.")
    metrics: list[str] = Field(description="Metrics of its latest finished scan.")
    selected: bool = False


class StudyForm(BaseModel):
    """The create/edit form: the study (None when new) and every project to pick from."""

    study: StudyRead | None
    projects: list[CandidateProject]
    default_thresholds: list[float]


class StudyProjectInfo(BaseModel):
    """One gathered project: where its numbers come from."""

    id: int
    name: str
    target_model: str
    n_strategies: int = Field(description="Strategies with an accuracy.")
    n_seeds: dict[str, int] = Field(description="Per strategy, the seeds that ran.")
    accuracy: dict[str, float] = Field(description="Per strategy, mean accuracy in points.")
    spread: float | None = Field(description="Sample std (ddof 1) of those accuracies.")
    oracle: float | None = Field(description="Best mean accuracy of its strategies.")
    random: float | None = Field(description="Mean of its strategies' mean accuracies.")
    sources: dict[str, str] = Field(description="Per metric, where its scores come from.")


class StudyRule(BaseModel):
    name: str
    text: str


class StudyPage(BaseModel):
    study: StudyRead
    thresholds: list[float]
    metrics: list[str]
    labels: dict[str, str]
    sources: dict[str, str] = Field(description="Per metric: scan, imported, or both.")
    primary_correlation: str = "spearman"
    summary: list[MetricSummary]
    rows: list[ProjectRow] = Field(description="Per project and metric: every number behind.")
    projects: list[StudyProjectInfo]
    rules: list[StudyRule]
    compute_s: float
    chart: dict[str, Any] | None = None
