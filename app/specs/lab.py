"""The strategy lab's run specs: what a user asks for a sample (``LabSampleCreate``) and what
the ``lab_sample`` job runs (``LabSampleSpec``, stored verbatim on the job row)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.ids import RowId

DEFAULT_SAMPLE = 50  # the research: ~50 questions tell strategies apart
MAX_RECIPES = 20
MAX_QUESTIONS = 5000


class LabSampleCreate(BaseModel):
    """A sample: recipes (by name, their latest versions) x questions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    recipes: list[str] = Field(min_length=1, max_length=MAX_RECIPES)
    n_questions: int = Field(default=DEFAULT_SAMPLE, ge=1, le=MAX_QUESTIONS)
    question_ids: list[RowId] | None = Field(
        default=None, max_length=MAX_QUESTIONS, description="These instead of a drawn sample"
    )
    seed: int = Field(default=0, ge=0, description="Draws the sample; recorded with the run")
    budget: float | None = Field(default=None, ge=0, description="Most the run may spend")
    concurrency: int | None = Field(default=None, ge=1, le=64, description="Per endpoint")

    @model_validator(mode="after")
    def _check(self) -> LabSampleCreate:
        if len(set(self.recipes)) != len(self.recipes):
            raise ValueError("recipes: a recipe is named twice")
        return self


class LabSampleSpec(BaseModel):
    """The ``lab_sample`` job: exact recipe versions and questions, limits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    recipe_version_ids: list[int] = Field(min_length=1, max_length=MAX_RECIPES)
    question_ids: list[int] = Field(min_length=1, max_length=MAX_QUESTIONS)
    seed: int | None = None
    budget: float | None = Field(default=None, ge=0)
    concurrency: int | None = Field(default=None, ge=1, le=64)
    timeout_s: float | None = Field(default=None, gt=0, description="Default: settings")
    max_retries: int | None = Field(default=None, ge=0, le=20, description="Default: settings")
    backoff_s: float = Field(default=1.0, ge=0, le=60)
    purpose: Literal["sample", "full_set"] = Field(
        default="sample", description="A sample is scanned when done; a full set is not"
    )


class LabFullSetCreate(BaseModel):
    """The full set: the rest of the project's questions, with one lab strategy's recipe
    version (the scan's pick, as a rule)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    strategy_id: RowId = Field(description="A strategy the lab made")
    budget: float | None = Field(default=None, ge=0, description="Most the run may spend")
    concurrency: int | None = Field(default=None, ge=1, le=64, description="Per endpoint")
