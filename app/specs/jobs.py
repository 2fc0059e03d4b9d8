"""Specs of the smaller job kinds (the scan's is ``app.specs.scan.ScanJobSpec``)."""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

from app.backends import DEFAULT_BACKEND, backend_names
from app.ids import RowId
from app.specs.scan import _choice

OWN_ANSWER_MAX_NEW_TOKENS = 320  # the scan's default too, so scans reuse the demo's answers


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AnalyzeSpec(_Spec):
    """Token counts and answer checks of every response of the project."""


class OwnAnswersSpec(_Spec):
    """The target answers the project's questions itself; stored as a strategy."""

    strategy: str = Field(default="target_own_answers", max_length=200)
    max_new_tokens: int = Field(default=OWN_ANSWER_MAX_NEW_TOKENS, ge=1, le=4096)
    limit: int | None = Field(default=None, ge=1, description="Only the first N questions")
    backend: str = Field(
        default=DEFAULT_BACKEND,
        max_length=40,
        description="What generates the answers (app.backends), as ScanSpec.backend.",
    )

    @field_validator("backend")
    @classmethod
    def _backend(cls, value: str) -> str:
        return _choice("backend", value, backend_names())

    @model_serializer(mode="wrap")
    def _stored(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The default backend is left out of the stored spec: job rows keep the shape they
        had before backends could be chosen (a missing backend reads as the default)."""
        data: dict[str, Any] = handler(self)
        if data.get("backend") == DEFAULT_BACKEND:
            data.pop("backend")
        return data


class TokenSurpriseSpec(_Spec):
    """Per-token log-probabilities of one question's responses, in a scan's prompts."""

    scan_id: int
    question_id: int


class LlmJudgeSpec(_Spec):
    """Judge free-form answers with a local instruct model (two-step prompt, gpu queue)."""

    model: str = Field(
        min_length=1,
        max_length=500,
        description="Instruct model that judges: a Hugging Face id or a local path",
    )
    limit: int | None = Field(default=None, ge=1, description="At most this many answers")
    strategy_ids: list[RowId] = Field(default_factory=list, description="Only these strategies")
