"""The playground's specs: what a user asks (``PlaygroundCreate``, form and JSON) and what the
``playground`` job runs (``PlaygroundSpec``, stored on the job row).

One question is answered by the untuned target and/or the adapters of finished validation
runs, each the way a validation evaluates a test question (its user turn in the chat
template, greedy, ``max_new_tokens``), so the answers are comparable side by side.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.backends import DEFAULT_BACKEND
from app.ids import RowId

PLAYGROUND_MAX_NEW_TOKENS = 320  # a validation's default (``ValidationSpec.max_new_tokens``)
MAX_QUESTION_CHARS = 20_000
MAX_MODELS = 20


class PlaygroundCreate(BaseModel):
    """What the user asks: a typed question or one of the project's, and which models answer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    question: str = Field(
        default="", max_length=MAX_QUESTION_CHARS, description="The question, typed"
    )
    question_id: RowId | None = Field(
        default=None,
        description="One of the project's questions instead (its gold judges the answers)",
    )
    base: bool = Field(default=True, description="The untuned target answers")
    run_ids: list[RowId] = Field(
        default_factory=list,
        max_length=MAX_MODELS,
        description="Validation runs whose trained adapters answer (finished runs only)",
    )
    max_new_tokens: int = Field(
        default=PLAYGROUND_MAX_NEW_TOKENS, ge=1, le=4096, description="Longest answer, in tokens"
    )

    @model_validator(mode="after")
    def _check(self) -> PlaygroundCreate:
        if self.question_id is None and not self.question.strip():
            raise ValueError("type a question or pick one of the project's")
        if not self.base and not self.run_ids:
            raise ValueError("tick the untuned target or at least one trained adapter")
        if len(set(self.run_ids)) != len(self.run_ids):
            raise ValueError("run_ids: a run is named twice")
        return self


class PlaygroundSpec(BaseModel):
    """The ``playground`` job: the question as resolved (text, gold, extractor) and the
    models that answer it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    question_id: int | None = None
    gold: str | None = Field(default=None, description="None: nothing to judge against")
    extractor: str = Field(min_length=1, max_length=40)
    base: bool = True
    model: str = Field(min_length=1, max_length=500, description="The untuned target")
    backend: str = Field(default=DEFAULT_BACKEND, max_length=40)
    dtype: str = Field(default="auto", pattern="^(auto|float32|bfloat16)$")
    run_ids: list[int] = Field(default_factory=list, max_length=MAX_MODELS)
    max_new_tokens: int = Field(default=PLAYGROUND_MAX_NEW_TOKENS, ge=1, le=4096)
