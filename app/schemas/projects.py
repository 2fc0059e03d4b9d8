from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.estimates import QueueEntry
from app.schemas.jobs import JobRead
from app.schemas.lab import LabStory
from app.schemas.scans import ScanRead


class ProjectCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20000)
    target_model: str | None = Field(
        default=None,
        max_length=500,
        description="Packaged model (default), a Hugging Face id, or a local folder.",
    )


class Outcome(BaseModel):
    """What the project's newest finished scan recommends."""

    scan_id: int
    metric: str | None = None
    recommended: str | None = Field(default=None, description="None: no strategy stood out")
    evidence: str | None = None


class ValidationOutcome(BaseModel):
    """What a finished validation found (mean test accuracy over seeds, 0-1)."""

    best: list[str] = Field(description="The best-trained strategy (several when tied)")
    best_accuracy: float
    recommended: str | None = Field(description="The compared scan's recommendation")
    recommended_accuracy: float | None = Field(description="None when it was not trained")
    agreed: bool | None = Field(
        description="Whether the recommendation trained best; None: no recommendation, or "
        "this validation did not train it"
    )


class LatestValidation(BaseModel):
    """The project's newest finished validation and what it found."""

    id: int
    label: str
    finished_at: datetime | None
    outcome: ValidationOutcome


class ProjectRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    target_model: str
    is_demo: bool
    created_at: datetime
    verdicts_from: str = Field(
        default="judge",
        description="Whose verdicts count: judge (Familiar's) or file (the uploads' `correct`)",
    )
    n_strategies: int = 0
    n_questions: int = 0
    outcome: Outcome | None = Field(default=None, description="The newest scan's recommendation")


class StrategyRead(BaseModel):
    id: int
    name: str
    source_filename: str
    file_format: str
    layout: str
    origin: str
    created_at: datetime
    n_responses: int
    coverage: float = Field(description="Share of the project's shared questions answered.")
    mean_tokens: float | None = Field(description="Mean response length in target tokens.")
    share_correct: float | None = Field(description="Share correct where gold is known.")
    n_checked: int = Field(default=0, description="Responses with a verdict (any source)")
    n_not_judged: int = Field(
        default=0,
        description="Responses no judge of Familiar's fits (a plan, long free text): left out "
        "of the share correct, never counted wrong",
    )
    n_from_file: int = Field(default=0, description="Verdicts taken from the file's `correct`")
    n_human: int = Field(default=0, description="Verdicts set by hand (human verdicts)")
    n_lacking: int = Field(
        default=0,
        description="Questions every other strategy answers and this one does not: what the "
        "shared questions would gain without it",
    )
    n_file_verdicts: int = Field(default=0, description="Responses with the file's own `correct`")
    sample_only: bool = Field(
        default=False,
        description="A strategy the lab made from a sample (its full set not generated): "
        "outside the project's shared questions and a scan's default strategies",
    )
    agreement: float | None = Field(
        default=None, description="Share of the file's own verdicts that Familiar agrees with"
    )
    import_report: dict[str, Any] | None = Field(
        default=None, description="How the import paired rows: rules used, repeats"
    )
    import_notes: list[str] = Field(
        default_factory=list, description="The import report in words (repeats, match rules)"
    )
    mix: dict[str, Any] | None = Field(
        default=None,
        description="A per-question mix: its scan, metric, pick per question, counts per source",
    )
    mix_note: str | None = Field(default=None, description="Where the mix came from, in words")
    lab: dict[str, Any] | None = Field(
        default=None,
        description="Made by the strategy lab: recipe version, teacher, model, sampling, cost",
    )


class ProjectPage(BaseModel):
    project: ProjectRead
    strategies: list[StrategyRead]
    n_questions: int
    n_shared: int = Field(description="Questions answered by every strategy.")
    coverage_warning: str | None
    jobs: list[JobRead]
    scans: list[ScanRead] = Field(default_factory=list)
    queue: list[QueueEntry] = Field(
        default_factory=list, description="Unfinished jobs: running, waiting, time left"
    )
    validation: LatestValidation | None = Field(
        default=None, description="The newest finished validation with its best-trained strategy"
    )
    lab: LabStory | None = Field(
        default=None,
        description="The strategy lab's newest sample: sample, scan, pick, full set, with cost",
    )


class ProjectList(BaseModel):
    projects: list[ProjectRead]
