"""Result pages of a scan and their JSON twins: the result page, paired view, drill-down,
downstream accuracy, comparison of scans."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from app.scans.report import ScanReport
from app.schemas.browse import QuestionRead
from app.schemas.categories import CategoryNote
from app.schemas.jobs import JobRead
from app.schemas.metrics import ImportedSection
from app.schemas.projects import ProjectRead
from app.schemas.scan_pages import ScanPage
from app.schemas.scans import ScanRead

# A metric of the report: any name of the metric registry (checked against the scan's).
ReportMetric = Annotated[str, StringConstraints(max_length=40, pattern=r"^[a-z][a-z0-9_\-]*$")]
Scale = Literal["log", "linear"]
SurpriseContext = Literal["ppl", "sppl"]


class SeedAccuracy(BaseModel):
    seed: int
    accuracy: float = Field(description="0-1")
    validation_id: int | None = Field(
        default=None, description="The validation that measured it (None: uploaded)"
    )


class AccuracyRow(BaseModel):
    strategy: str
    strategy_id: int
    mean: float
    std: float | None = Field(description="Across seeds (ddof=1); None with one seed")
    n_seeds: int
    seeds: list[SeedAccuracy]


class AccuracySection(BaseModel):
    """Measured accuracies and, per metric, whether its top pick trained best."""

    rows: list[AccuracyRow] = Field(description="Best accuracy first")
    top_picks: list[dict[str, Any]] = Field(
        description="One row per selector: app.stats.agreement.evaluate_top_picks rows (the "
        "recommendation, each metric, each imported metric), then the trained per-question "
        "mixes; each with cost_s, its seconds of model time in the scan (None: not measured)"
    )
    evidence_note: str | None = Field(
        default=None,
        description="Why the evidence is too thin to tell the selectors apart; None when not",
    )


class AccuracyUploadResult(BaseModel):
    filename: str
    n_rows: int
    strategies: list[str]
    percent: bool = Field(description="True when values were read as percentages (0-100)")
    note: str


class ScanRef(BaseModel):
    id: int
    model_name: str
    created_at: datetime
    metrics: list[str]
    sample: int | None


class VerdictChange(BaseModel):
    strategy: str
    share_then: float | None = Field(description="Share correct the scan used (None: none)")
    n_then: int = Field(description="Sampled responses with a verdict when the scan ran")
    share_now: float | None = Field(description="Share correct by the current verdicts")
    n_now: int = Field(description="Sampled responses with a verdict now")


class VerdictDrift(BaseModel):
    """The scanned responses' verdicts changed since the scan (app.services.results.
    verdict_drift): its share correct and correctness rule keep the scan's; a rescan uses
    the current ones."""

    changes: list[VerdictChange] = Field(description="Strategies whose share correct changed")
    n_by_hand: int = Field(description="Verdicts of the scanned responses set by hand since")


class ResultPage(ScanPage):
    """The scan result page. ``summary`` is how the scan ran, without the per-question SPPL
    examples (see the drill-down); ``report`` the stored chart payloads (app.scans.report)."""

    report: ScanReport | None = Field(description="Rankings, distributions, win rates")
    metric: str | None = Field(description="Metric shown in detail (?metric=; default primary)")
    scale: Scale = Field(description="Axis scale of the charts (?scale=)")
    colors: dict[str, str] = Field(description="Chart colour per strategy name")
    strategy_ids: dict[str, int] = Field(description="Strategy id per name")
    snippets: dict[str, str] = Field(description="Question text for every question key charted")
    accuracy: AccuracySection | None
    other_scans: list[ScanRef] = Field(description="Other finished scans of the project")
    imported: ImportedSection | None = Field(
        default=None, description="Imported metrics ranked over the scan's strategies"
    )
    samples: dict[str, Any] | None = Field(
        default=None,
        description="K disjoint samples: per metric, each sample's pick and "
        "how often each strategy is the pick (app.stats.samples)",
    )
    categories: CategoryNote | None = Field(
        default=None,
        description="Where questions carry categories: whether the pick loses "
        "clearly on some (the per-category page has the breakdown)",
    )
    source: dict[str, Any] | None = Field(
        default=None, description="For a scan imported from a results.json: file and time"
    )
    verdicts_changed: VerdictDrift | None = Field(
        default=None,
        description="Where the scanned responses' verdicts changed since the scan: its share "
        "correct and correctness rule use the verdicts it ran with; rescan to use the new ones",
    )


class PairedPoints(BaseModel):
    keys: list[str]
    a: list[float]
    b: list[float]
    n_total: int
    sampled: bool


class PairedPage(BaseModel):
    project: ProjectRead
    scan: ScanRead
    metric: str
    label: str
    labels: dict[str, str] = Field(description="Every metric of the scan, with its label")
    lower_is_better: bool
    scale: Scale
    strategies: list[str] = Field(description="Strategies of the scan in ranking order")
    a: str
    b: str
    comparison: dict[str, Any] = Field(description="app.stats.paired.compare_paired(a, b)")
    points: PairedPoints
    largest_differences: list[dict[str, Any]] = Field(
        description="Questions where A and B differ most: key, a, b, diff"
    )
    snippets: dict[str, str]


class MetricScore(BaseModel):
    value: float | None
    rank: int | None = Field(description="Rank among the scan's strategies for this question")
    n_ranked: int
    truncated: bool


class StrategyAnswer(BaseModel):
    strategy: str
    strategy_id: int
    origin: str
    text: str | None
    correct: bool | None
    n_tokens: int | None
    scores: dict[str, MetricScore]


class OwnAnswerRead(BaseModel):
    text: str
    correct: bool | None
    settings_key: str
    created_at: datetime


class SurpriseToken(BaseModel):
    index: int = Field(description="Position among the response's scored tokens")
    text: str = Field(description="The token's decoded text")
    logprob: float = Field(description="Log-probability in nats (rounded to 4 decimals)")
    level: int = Field(description="Shade 0-8: surprise (-logprob) in whole nats, capped at 8")


class SurpriseResponse(BaseModel):
    strategy_id: int
    strategy: str
    truncated: bool
    n_tokens: int
    ppl: float | None = Field(description="exp(-mean logprob) of the tokens shown")
    scan_value: float | None = Field(
        default=None, description="The scan's stored value for the context (the score table's)"
    )
    note: str | None = Field(
        default=None, description="Why `ppl` differs from `scan_value`, when it does"
    )
    tokens: list[SurpriseToken]
    top: list[SurpriseToken] = Field(description="The most surprising tokens, most first")


class TokenSurpriseView(BaseModel):
    """Per-token surprise of every strategy's response to one question, in one context."""

    job_id: int | None
    finished_at: datetime | None
    contexts: list[SurpriseContext] = Field(description="Contexts computed: ppl, sppl")
    context: SurpriseContext = Field(description="The context shown (`?surprise=`)")
    responses: list[SurpriseResponse] = Field(description="In the order of `answers`")


class ExemplarRead(BaseModel):
    """One SPPL example: the target's own answer and the pool question it answered."""

    text: str
    question_id: int | None = Field(
        default=None, description="The pool question it answers (None: not recorded)"
    )
    question_text: str | None = None


class ScanQuestionPage(BaseModel):
    project: ProjectRead
    scan: ScanRead
    question: QuestionRead
    metrics: list[str]
    labels: dict[str, str]
    primary: str | None
    in_sample: bool
    sample_position: int | None
    n_sample: int
    prev_id: int | None
    next_id: int | None
    answers: list[StrategyAnswer] = Field(description="Best first by the primary metric")
    own_answer: OwnAnswerRead | None
    exemplars: list[ExemplarRead] = Field(
        description="The target's own answers placed before this question when scoring SPPL"
    )
    exemplars_filtered: bool | None = Field(
        default=None,
        description="True: own correct answers with their gold appended; False: unfiltered "
        "own answers as generated (filter off or fallback); None: not recorded",
    )
    surprise: TokenSurpriseView | None = Field(
        default=None, description="Per-token surprise from the newest finished job, if any"
    )
    surprise_job: JobRead | None = Field(
        default=None, description="The newest token_surprise job when it has not succeeded"
    )


class CompareCell(BaseModel):
    rank: int | None
    mean: float | None
    n: int
    rank_change: int | None = Field(description="Rank minus the rank in the first scan")


class CompareRow(BaseModel):
    strategy: str
    cells: list[CompareCell | None] = Field(description="One per scan; None when not scanned")


class CompareMetric(BaseModel):
    metric: str
    label: str
    rows: list[CompareRow]
    tops: list[str | None] = Field(description="Top strategy per scan")
    agreement: list[dict[str, Any] | None] = Field(
        description="Per scan, rank correlation of its strategy means with the first scan's "
        "(spearman, kendall, n_strategies); None for the first scan"
    )


class SettingDiff(BaseModel):
    setting: str
    values: list[Any]


class ComparePage(BaseModel):
    project: ProjectRead
    available: list[ScanRef] = Field(description="Finished scans of the project")
    scans: list[ScanRef] = Field(description="The compared scans, as asked")
    metrics: list[CompareMetric]
    settings_diff: list[SettingDiff]
    same_settings: list[SettingDiff]
