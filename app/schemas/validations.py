"""Validation pages and their JSON twins: test set, runs with curves, evaluations, results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.schemas.jobs import JobRead
from app.schemas.projects import ProjectRead, ValidationOutcome


class TestSetRead(BaseModel):
    __test__ = False
    id: int
    project_id: int
    source: str = Field(description="upload | holdout | demo")
    filename: str
    seed: int | None = Field(description="Seed of the hold-out draw (source holdout)")
    n_questions: int
    n_overlapping_training: int = Field(
        description="Project questions that are also test questions: never trained on"
    )
    created_at: datetime
    sample: list[dict[str, str]] = Field(description="The first three questions and golds")


class CurvePoint(BaseModel):
    step: int
    loss: float | None = None
    tokens_per_s: float | None = None
    val_loss: float | None = None
    val_accuracy: float | None = None


class RunRead(BaseModel):
    id: int
    strategy_id: int
    strategy: str
    seed: int
    status: str = Field(description="training | stopped | trained | failed")
    rung: int
    until_step: int | None
    steps: int
    best_step: int | None
    best_val_accuracy: float | None
    best_val_loss: float | None
    stopped_reason: str | None
    adapter_url: str | None = Field(description="Download of the chosen adapter (zip)")
    job: JobRead | None
    curve: list[CurvePoint] = Field(description="Training loss per step")
    checkpoints: list[CurvePoint] = Field(description="Validation loss/accuracy per checkpoint")
    result: dict[str, Any] | None


class EvaluationRead(BaseModel):
    id: int
    run_id: int | None = Field(description="None: the untuned target")
    strategy: str | None
    seed: int | None
    extractor: str
    n: int
    accuracy: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    seconds: float | None
    tokens_per_s: float | None
    job: JobRead | None
    finished: bool


class StrategyAccuracy(BaseModel):
    strategy_id: int
    strategy: str
    mean: float = Field(description="Mean over the seeds that produced a result (0-1)")
    std: float | None = Field(description="Across seeds (ddof 1)")
    n_seeds: int
    seeds: dict[int, float]
    ci_low: float | None = Field(description="95% interval over test questions (pooled seeds)")
    ci_high: float | None
    n_questions: int
    metrics: dict[str, float | None] = Field(
        default_factory=dict,
        description="The compared scan's metrics and the project's imported ones: the "
        "strategy's mean (the labels are in `metric_labels`)",
    )


class PairedComparison(BaseModel):
    a: str
    b: str
    n: int
    a_only: int = Field(description="Questions A got right and B wrong (first seed)")
    b_only: int
    p_value: float | None = Field(description="Exact McNemar test, two-sided")
    differing: list[dict[str, Any]] = Field(description="The questions where they differ")


class ValidationRead(BaseModel):
    id: int
    project_id: int
    scan_id: int | None
    test_set_id: int | None
    label: str
    status: str = Field(description="running, done, failed or cancelled")
    error: str | None = Field(default=None, description="Why it failed")
    spec: dict[str, Any]
    summary: dict[str, Any]
    created_at: datetime
    finished_at: datetime | None
    outcome: ValidationOutcome | None = Field(
        default=None, description="Finished validations: the best-trained strategy"
    )


class RecommendationCheck(BaseModel):
    """The compared scan's recommendation against the trained accuracies."""

    scan_id: int
    metric: str = Field(description="The scan's primary metric")
    pick: str = Field(description="What the scan recommends (correctness rule applied)")
    trained: bool = Field(description="Whether this validation trained the pick")
    pick_accuracy: float | None
    best_trained: list[str]
    regret: float | None = Field(description="Best accuracy minus the pick's")
    passed_over: list[dict[str, Any]] = Field(
        description="Trained strategies more familiar than the pick that the correctness "
        "rule passed over, with their accuracy"
    )
    cost_s: float | None = Field(
        default=None, description="Seconds of model time the scan spent on its primary metric"
    )


class ValidationResults(BaseModel):
    base_accuracy: float | None
    accuracies: list[StrategyAccuracy] = Field(description="Best mean accuracy first")
    best: str | None
    metric_labels: dict[str, str] = Field(
        default_factory=dict, description="Metric name -> label, in display order"
    )
    top_picks: list[dict[str, Any]] = Field(
        description="Per selector (a metric of the compared scan, an imported metric, a "
        "per-question mix: label, direction, origin): its pick, the pick's accuracy, regret, "
        "Spearman, Kendall and cost_s (seconds of model time; None for imported metrics)"
    )
    recommendation: RecommendationCheck | None = Field(
        default=None, description="The compared scan's recommendation against accuracy"
    )
    evidence_note: str | None = Field(
        default=None,
        description="Why the evidence is too thin to tell the selectors apart; None when not",
    )
    paired: PairedComparison | None = None


class ValidationPage(BaseModel):
    project: ProjectRead
    validation: ValidationRead
    test_set: TestSetRead | None
    runs: list[RunRead]
    evaluations: list[EvaluationRead]
    results: ValidationResults
    halving_log: list[dict[str, Any]]
    seconds_left: float | None = Field(description="Estimated time left for the training")
    active: bool


class ValidationList(BaseModel):
    validations: list[ValidationRead]


class PredictionRow(BaseModel):
    test_question_id: int
    question: str
    output: str
    extracted: str | None
    gold: str
    correct: bool
    extractor: str


class PredictionsPage(BaseModel):
    project: ProjectRead
    validation: ValidationRead
    evaluation: EvaluationRead
    extractor: str = Field(description="The extractor the rows are scored with")
    rescored: bool = Field(description="True when re-scored from saved outputs (no model run)")
    accuracy: float | None
    extractors: list[str]
    rows: list[PredictionRow]
    page: int
    pages: int
    show: str = Field(default="all", description="all | wrong (only the wrong predictions)")
    total: int = Field(default=0, description="Predictions shown over all pages")


class StrategyChoice(BaseModel):
    id: int
    name: str


class ValidationsIndex(BaseModel):
    """The project's validations, its test set and what a new validation can choose."""

    project: ProjectRead
    test_set: TestSetRead | None
    validations: list[ValidationRead]
    strategies: list[StrategyChoice]
    latest_scan_id: int | None
    defaults: dict[str, Any] = Field(description="ValidationSpec defaults (the form's)")
    help: dict[str, str] = Field(description="ValidationSpec field help")
    demo_preset: dict[str, Any] | None = Field(
        default=None, description="The demo project's CPU-sized preset"
    )


class HoldOut(BaseModel):
    n: int = Field(
        ge=1,
        examples=[100],  # what the form suggests; the API asks for a number
        description="How many questions with a gold answer to hold out",
    )
    seed: int = Field(default=0, ge=0, description="Seed of the draw (recorded)")
