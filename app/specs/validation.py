"""``ValidationSpec``: which strategies to fine-tune, on what, and how (issue 12).

One spec for the web form, ``POST /api/v1/projects/{id}/validations``, ``familiar validate``
and the workers; stored verbatim with the validation. It embeds the training core's
``TrainSettings`` (``train``), whose ``seed`` each run replaces with its own seed. Bad values
raise ``ValidationInputError`` naming the field.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from app.backends import DEFAULT_BACKEND, get_backend_kind
from app.ids import RowId
from app.specs.errors import SpecInputError, field_messages, validation_message
from app.specs.training import TrainingSettingsError, TrainSettings

DEFAULT_TRAIN_EXAMPLES = 1000  # the research recipe; fewer when fewer questions are shared
DEFAULT_VAL_EXAMPLES = 300
DEFAULT_TEST_LIMIT = 1000


class ValidationInputError(SpecInputError):
    """The validation cannot start with these settings or inputs (before any heavy work)."""


class ValidationSpec(BaseModel):
    """Settings of a validation: LoRA-fine-tune the target on each strategy, evaluate."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    strategy_ids: list[RowId] | None = Field(
        default=None, description="Strategies to fine-tune (ids); empty: all of them."
    )
    quick: Literal["none", "top3"] = Field(
        default="none",
        description="top3: the scan's three most familiar strategies (by SPPL, else PPL) "
        "plus the ground truth when there is one; needs a scan.",
    )
    scan_id: RowId | None = Field(
        default=None,
        description="The scan whose metrics the results are compared with "
        "(default: the project's latest finished scan).",
    )
    seeds: int = Field(default=3, ge=1, le=10, description="Runs per strategy (seeds 0..n-1).")
    train_examples: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description="Training questions per strategy, the SAME for every strategy (drawn "
        "with data_seed); empty: 1000, or all when fewer remain. A number larger than what "
        "every strategy answers is refused.",
    )
    val_examples: int | None = Field(
        default=None,
        ge=0,
        le=100_000,
        description="Validation questions (with gold answers) for choosing the checkpoint, "
        "drawn from the shared questions not trained on; empty: 300 or what remains.",
    )
    test_limit: int | None = Field(
        default=DEFAULT_TEST_LIMIT,
        ge=1,
        le=1_000_000,
        description="At most this many test questions are evaluated (the first ones).",
    )
    data_seed: int = Field(default=0, ge=0, description="Seed of the training/validation draw.")
    extractor: str | None = Field(
        default=None,
        max_length=40,
        description="Answer extractor (last_number, final_answer, gsm8k_strict, "
        "gsm8k_flexible, option_letter, exact_match, math_equiv); empty: suggested from "
        "the test set's gold answers.",
    )
    max_new_tokens: int = Field(
        default=320, ge=1, le=4096, description="Longest generated test answer, in tokens."
    )
    halving: bool = Field(
        default=False,
        description="Successive halving: all runs train for a first budget, the worse half "
        "by validation accuracy stops, the rest go on (budget doubling each round).",
    )
    halving_first_steps: int = Field(
        default=50, ge=1, le=1_000_000, description="Halving: optimizer steps of the first round."
    )
    model: str | None = Field(
        default=None, max_length=500, description="Target model (default: the project's)."
    )
    backend: str = Field(
        default=DEFAULT_BACKEND,
        max_length=40,
        description="What trains and evaluates the target (app.backends); it must train.",
    )
    label: str = Field(default="", max_length=200, description="A name for this validation.")
    train: TrainSettings = Field(
        default_factory=TrainSettings,
        description="How each run trains (LoRA rank, learning rate, epochs, precision...).",
    )

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ValidationInputError(validation_message(exc), field_messages(exc)) from None
        except TrainingSettingsError as exc:
            raise ValidationInputError(f"train: {exc}", exc.fields) from None

    @field_validator("backend")
    @classmethod
    def _backend(cls, value: str) -> str:
        if not get_backend_kind(value).trains:
            raise ValueError(f"the {value} backend cannot train; use one that does")
        return value

    @model_validator(mode="after")
    def _check(self) -> ValidationSpec:
        if self.extractor is not None and not self.extractor.strip():
            object.__setattr__(self, "extractor", None)
        return self

    @classmethod
    def help(cls) -> dict[str, str]:
        """Field name -> help text (the training fields under ``train.``)."""
        own = {n: f.description or "" for n, f in cls.model_fields.items() if n != "train"}
        return own | {f"train.{n}": h for n, h in TrainSettings.help().items()}

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ValidationTrainSpec(BaseModel):
    """The job that fine-tunes one run (strategy, seed) up to ``until_step`` (None: the end)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    validation_id: int
    run_id: int
    until_step: int | None = None


class ValidationEvalSpec(BaseModel):
    """The job that evaluates the untuned target (``run_id`` None) or one run's adapter."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    validation_id: int
    evaluation_id: int
