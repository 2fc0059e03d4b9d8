from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from app.schemas.projects import ProjectRead, StrategyRead


class ResponseItem(BaseModel):
    question_id: int
    question_text: str
    external_id: str | None
    gold: str | None
    text: str
    line: int
    n_tokens: int | None
    correct: bool | None
    verdict_source: str | None = None  # judge | not_judged | file | human


class ResponsesPage(BaseModel):
    project: ProjectRead
    strategy: StrategyRead
    q: str
    page: int
    per_page: int
    total: int
    pages: int
    items: list[ResponseItem]


class QuestionRead(BaseModel):
    id: int
    external_id: str | None
    text: str
    gold: str | None
    position: int
    answer_type: str | None = None  # number|option|yesno|text|code, once answers are judged
    tests: list[str] | None = None  # a code task's own tests, read at upload
    tests_field: str | None = None  # the upload's field they came from (test_list, ...)
    tests_setup: str | None = None  # setup code run before them


class StrategyResponse(BaseModel):
    strategy_id: int
    strategy_name: str
    origin: str
    text: str | None
    n_tokens: int | None
    correct: bool | None
    response_id: int | None = None
    verdict_source: str | None = None  # judge | not_judged | file | human
    verdict_by: str | None = None  # who set a human verdict
    verdict_at: datetime | None = None


class QuestionPage(BaseModel):
    project: ProjectRead
    question: QuestionRead
    responses: list[StrategyResponse]
    prev_id: int | None
    next_id: int | None
    n_questions: int


class QuestionList(BaseModel):
    project: ProjectRead
    q: str
    page: int
    per_page: int
    total: int
    pages: int
    items: list[QuestionRead]
