"""The strategy lab's in/out models: teachers (the key goes in, never out), recipes and
their versions, prices."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

MAX_TEMPLATE_CHARS = 20_000
MAX_EXAMPLES = 10


def _check_url(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    value = value.strip()
    if not value.startswith(("http://", "https://")):
        raise ValueError("base_url must start with http:// or https://")
    parts = urlsplit(value)
    if parts.username is not None or parts.password is not None:
        raise ValueError("base_url may not hold a user or password (the key goes in api_key)")
    if parts.query or parts.fragment:
        raise ValueError("base_url may not hold a query or fragment (the key goes in api_key)")
    return value.rstrip("/")


class TeacherCreate(BaseModel):
    """A teacher endpoint. ``api_key`` is write-only: stored encrypted, never returned."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    name: str = Field(min_length=1, max_length=100, description="Unique in the project")
    base_url: str = Field(
        min_length=1, max_length=500, description="OpenAI-compatible base, e.g. .../v1"
    )
    model: str = Field(min_length=1, max_length=500, description="The model name it serves")
    api_key: SecretStr | None = Field(default=None, description="Write-only; stored encrypted")
    max_concurrency: int = Field(default=4, ge=1, le=64, description="Requests at once")
    tokenizer_path: str | None = Field(default=None, max_length=1000)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        return _check_url(value)


class TeacherUpdate(BaseModel):
    """Fields to change; ``api_key`` "" removes the key, absent keeps it."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    base_url: str | None = Field(default=None, max_length=500)
    model: str | None = Field(default=None, min_length=1, max_length=500)
    api_key: SecretStr | None = None
    max_concurrency: int | None = Field(default=None, ge=1, le=64)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        return _check_url(value)


class TeacherRead(BaseModel):
    id: int
    project_id: int
    name: str
    kind: Literal["endpoint", "target"]
    base_url: str | None
    model: str
    api_key: Literal["set", "not set"]
    api_key_hint: str | None = Field(description="The key's last 4 characters, at most")
    max_concurrency: int
    tokenizer_path: str | None
    created_at: datetime


class TeacherList(BaseModel):
    project_id: int
    teachers: list[TeacherRead]


class RecipeContent(BaseModel):
    """What a recipe version holds; saving a changed content adds a version."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["teacher", "rule"] = "teacher"
    teacher: str | None = Field(
        default=None, max_length=100, description="Teacher name (None: the target itself)"
    )
    system_template: str = Field(default="", max_length=MAX_TEMPLATE_CHARS)
    user_template: str = Field(min_length=1, max_length=MAX_TEMPLATE_CHARS)
    examples: list[str] = Field(default_factory=list, max_length=MAX_EXAMPLES)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_tokens: int = Field(default=512, ge=1, le=32_768)
    strip_prefix: str = Field(default="", max_length=200)
    stop_marker: str = Field(default="", max_length=200)
    preset: str | None = Field(default=None, max_length=40)
    source: str = Field(default="", max_length=2000, description="Where the recipe comes from")


class RecipeCreate(RecipeContent):
    name: str = Field(min_length=1, max_length=100)


class RecipeVersionRead(RecipeContent):
    id: int
    recipe_id: int
    version: int
    teacher_id: int | None
    created_at: datetime


class RecipeRead(BaseModel):
    id: int
    project_id: int
    name: str
    latest: RecipeVersionRead
    versions: int


class PresetsInstall(BaseModel):
    model_config = ConfigDict(extra="forbid")

    teacher: str | None = Field(default=None, max_length=100, description="None: the target")
    names: list[str] | None = Field(default=None, description="None: every preset")


class PresetRead(BaseModel):
    name: str
    kind: Literal["teacher", "rule"]
    source: str


class RecipeWithVersions(BaseModel):
    id: int
    name: str
    versions: list[RecipeVersionRead]


class LabRunRead(BaseModel):
    """A lab sample as the page shows it: its job (progress, spend so far) and per recipe
    the answers, spend and flags; the faults by kind."""

    job: Any  # app.schemas.jobs.JobRead (kept loose: a circular import otherwise)
    spent: float
    faults: dict[str, int]
    recipes: list[dict[str, Any]]
    promoted: dict[str, Any] | None = Field(
        default=None, description="The strategies its recipes became and the scan of them"
    )


class PriceSet(BaseModel):
    """What a model costs the project per million tokens (the budget's currency)."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=500, description="As its teacher names it")
    prompt_per_mtok: float = Field(ge=0, le=1e6, description="Per million prompt tokens")
    completion_per_mtok: float = Field(ge=0, le=1e6, description="Per million new tokens")


class PriceRead(PriceSet):
    used_by: list[str] = Field(default_factory=list, description="Teachers serving this model")


class BudgetSet(BaseModel):
    """The most the project's lab runs may spend together (None: no limit)."""

    model_config = ConfigDict(extra="forbid")

    limit: float | None = Field(default=None, ge=0, le=1e9)
    currency: str = Field(default="USD", min_length=1, max_length=10, pattern=r"^[A-Za-z$€£¥]+$")


class BudgetRead(BudgetSet):
    spent: float = Field(description="What every lab run of the project spent so far")
    left: float | None = Field(description="limit - spent, never below 0; None: no limit")


class LabStrategyRead(BaseModel):
    """A strategy the lab made: what the full set would still ask, and its training file."""

    id: int
    name: str
    recipe: str
    answers: int
    remaining: int = Field(description="The project's questions it has no answer to")
    cost: float
    pick: bool = Field(description="The newest scan of lab strategies recommends it")
    export_url: str


class LabPage(BaseModel):
    """The lab page and its JSON twin."""

    project_id: int
    teachers: list[TeacherRead]
    recipes: list[RecipeWithVersions]
    presets: list[PresetRead]
    runs: list[LabRunRead]
    prices: list[PriceRead]
    budget: BudgetRead
    strategies: list[LabStrategyRead] = Field(default_factory=list)
    story: LabStory | None = Field(
        default=None, description="The newest sample as sample -> scan -> pick -> full set"
    )


class LabStep(BaseModel):
    """One step of a lab run as the project page tells it."""

    name: str  # sample | scan | pick | full set
    status: str  # a job status, "waiting" (not reached), "chosen" or "none"
    text: str
    url: str | None = None
    cost: float | None = Field(default=None, description="What the step spent (teacher calls)")


class LabStory(BaseModel):
    """The newest sample, told as sample -> scan -> pick -> full set."""

    steps: list[LabStep]
    spent: float = Field(description="What the sample and its full set spent together")


LabPage.model_rebuild()  # LabStory is defined below LabPage
