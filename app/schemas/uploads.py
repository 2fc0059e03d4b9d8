from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class StrategyIngested(BaseModel):
    strategy_id: int
    name: str
    filename: str
    file_format: str
    layout: str
    n_responses: int
    n_new_questions: int
    n_matched_questions: int
    replaced: bool
    warnings: list[str]
    matched_by: dict[str, int] = Field(
        default_factory=dict,
        description="Responses paired with a stored question, by rule (id, text, contained)",
    )
    repeats: dict[str, Any] = Field(
        default_factory=dict, description="Questions repeated within the file and how"
    )
    tests_field: str | None = Field(
        default=None, description="The field a code task's tests were read from (test_list, ...)"
    )
    n_with_tests: int = Field(default=0, description="Responses whose question came with tests")


class UploadResult(BaseModel):
    strategies: list[StrategyIngested]
    job_id: int | None = None
    coverage_note: str | None = Field(
        default=None, description="Which file made the shared questions drop, and by how much"
    )
    n_shared_before: int | None = Field(
        default=None, description="Questions answered by every strategy before the upload"
    )
    n_shared: int = Field(default=0, description="Questions answered by every strategy now")


class UploadProblem(BaseModel):
    detail: str
    filename: str | None = None
    line: int | None = None
    field: str | None = None
