"""The playground page and its JSON twin: what may answer, the question picked, the run
shown with its answers side by side, and the earlier runs."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.schemas.jobs import JobRead
from app.schemas.projects import ProjectRead


class PlaygroundChoice(BaseModel):
    """A model that may answer: a finished validation run's trained adapter."""

    run_id: int
    label: str = Field(description="Strategy and seed, as the answers are headed")
    validation_id: int
    validation_label: str
    strategy: str
    seed: int
    best_val_accuracy: float | None


class PlaygroundQuestion(BaseModel):
    id: int
    text: str
    gold: str | None


class PlaygroundAnswer(BaseModel):
    label: str
    run_id: int | None = Field(description="None: the untuned target")
    model: str = ""
    output: str
    extracted: str | None = Field(description="The final answer the extractor found")
    correct: bool | None = Field(description="Matches the gold; None: no gold to judge by")
    why: str = ""
    new_tokens: int = 0
    seconds: float | None = None


class PlaygroundRun(BaseModel):
    job: JobRead
    question: str
    question_id: int | None
    gold: str | None
    extractor: str
    max_new_tokens: int
    labels: list[str] = Field(description="The models asked, in the order they answer")
    answers: list[PlaygroundAnswer] = Field(description="Empty until the job has succeeded")


class PlaygroundPage(BaseModel):
    project: ProjectRead
    choices: list[PlaygroundChoice]
    questions: list[PlaygroundQuestion] = Field(description="The project's first questions")
    n_questions: int
    picked: PlaygroundQuestion | None = Field(description="The question chosen to ask")
    max_new_tokens: int = Field(description="The default: a validation's")
    run: PlaygroundRun | None = Field(description="The run shown (the newest by default)")
    runs: list[PlaygroundRun] = Field(description="Earlier runs, newest first")
