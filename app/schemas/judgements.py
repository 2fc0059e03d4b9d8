"""How answers were judged: per strategy, per answer type, and each judgement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.schemas.projects import ProjectRead
from app.specs.jobs import LlmJudgeSpec

RULE_TEXTS = {
    "number": "the final number (last \\boxed{}, else the line after the last 'Final Answer', "
    "else the last number, the reference rule) equals the gold number within 1e-6 relative",
    "option": "the option the answer finally chooses (explicit final statement, else a lone "
    "option on the last line; label or option text) is the gold option; a label and a text "
    "naming different options count as wrong",
    "yesno": "the last yes/no/true/false of the final statement (else of the last line) "
    "equals the gold",
    "text": "the final statement (else the last line) equals the gold or contains it as a "
    "whole phrase, after case, punctuation and spacing are ignored",
    "code": "every test passes when run after the answer's code in the sandbox (its own "
    "process: no network, time and memory limits, a scratch folder); the tests are the "
    "question's own, from the upload's tests field (test_list, tests, ...) with its setup "
    "code, else the gold's; the reason names where they came from",
    "llm": "a local instruct model is asked what the final answer is, then whether it is "
    "correct (Yes or No); its replies are kept as the reason",
    "no gold": "no gold answer: no verdict",
    "not judged": "no rule fits the answer type (a gold of several lines, a plan of actions, "
    "long free text): no verdict, left out of every share correct; ask the LLM judge or use "
    "the verdicts the file carries",
}


class StrategyJudged(BaseModel):
    strategy_id: int
    name: str
    n_responses: int
    n_judged: int = Field(description="Responses with a verdict (their question has a gold)")
    n_correct: int
    share_correct: float | None
    n_file_verdicts: int = Field(description="Responses whose file carries its own `correct`")
    n_agree: int
    agreement: float | None = Field(description="Share of file verdicts Familiar agrees with")
    n_disagree: int
    n_counted: int = Field(default=0, description="Responses with a verdict that counts")
    share_counted: float | None = Field(
        default=None,
        description="Share correct by the verdicts that count (judge, file or human): the "
        "share every other page shows",
    )
    n_not_judged: int = Field(default=0, description="Responses no judge of Familiar's fits")
    n_from_file: int = Field(default=0, description="Verdicts taken from the file")
    n_human: int = Field(default=0, description="Verdicts set by hand")


class JudgementItem(BaseModel):
    response_id: int
    question_id: int
    question_text: str
    strategy_name: str
    judge: str
    answer: str = Field(description="The response, cut to 2000 characters")
    answer_type: str
    extracted: str | None
    gold: str | None
    verdict: bool | None
    rule: str
    reason: str
    file_correct: bool | None = Field(description="The file's own verdict, if it had one")
    details: dict[str, Any] | None = Field(description="Options, per-test results, LLM reasons")
    correct: bool | None = Field(default=None, description="The verdict that counts")
    verdict_source: str | None = Field(
        default=None, description="judge | not_judged | file | human: where `correct` came from"
    )
    verdict_by: str | None = Field(default=None, description="Who set a human verdict")
    verdict_at: datetime | None = Field(default=None, description="When a human verdict was set")
    tests_from: str | None = Field(
        default=None,
        description="Code questions: where the tests came from (a field of the upload, or gold)",
    )


class JudgementsPage(BaseModel):
    project: ProjectRead
    judge: str = Field(description="Which judge's verdicts are shown (auto = the rule judge)")
    judges: list[str] = Field(description="Judges that have verdicts in this project")
    strategies: list[StrategyJudged]
    answer_types: dict[str, int] = Field(description="Questions per detected answer type")
    rules: dict[str, str] = Field(description="What each rule checks")
    show: str = Field(
        description="all | disagree (with the file) | wrong | right (by the verdict that "
        "counts) | not_judged"
    )
    strategy_id: int | None
    page: int
    per_page: int
    total: int
    pages: int
    items: list[JudgementItem]


LlmJudgeCreate = LlmJudgeSpec  # one spec for the API, the form and the job


class LlmJudgeStarted(BaseModel):
    job_id: int
    judge: str = Field(description="The judge name its verdicts are stored under")
