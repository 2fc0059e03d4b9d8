"""The one registry of job kinds: each names its queue, its typed spec and its handler.

The handler is a dotted path, imported only by a worker, so the web process can read this
registry without importing torch or ``workers``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from app.specs.jobs import AnalyzeSpec, LlmJudgeSpec, OwnAnswersSpec, TokenSurpriseSpec
from app.specs.lab import LabSampleSpec
from app.specs.playground import PlaygroundSpec
from app.specs.scan import ScanJobSpec, validation_message
from app.specs.validation import ValidationEvalSpec, ValidationTrainSpec


@dataclass(frozen=True)
class JobKind:
    name: str
    queue: str  # "gpu": model work, one job per GPU; "cpu": light work; "network": waits
    spec: type[BaseModel]
    handler: str  # "module:function", called with a JobContext
    also_on: tuple[str, ...] = ()  # queues a job of this kind may be sent to instead

    def queue_for(self, queue: str | None) -> str:
        """``queue`` where this kind may run there, else the kind's own."""
        if queue is None or queue == self.queue:
            return self.queue
        if queue not in self.also_on:
            raise UnknownJobKindError(f"{self.name} jobs do not run on the {queue!r} queue")
        return queue

    def validate(self, spec: dict[str, Any] | BaseModel | None) -> dict[str, Any]:
        """The spec as stored on the row (JSON), checked against the kind's model."""
        if isinstance(spec, BaseModel):
            spec = spec.model_dump(mode="json")
        return self.parse(spec or {}).model_dump(mode="json")

    def parse(self, spec: dict[str, Any]) -> Any:
        """The stored spec as the kind's typed model (what the handler gets)."""
        try:
            return self.spec.model_validate(spec or {})
        except ValidationError as exc:
            raise UnknownJobKindError(f"{self.name} spec: {validation_message(exc)}") from exc


class UnknownJobKindError(ValueError):
    """No job kind of that name, or a spec its kind refuses."""


KINDS: dict[str, JobKind] = {
    k.name: k
    for k in (
        JobKind("analyze", "cpu", AnalyzeSpec, "workers.jobs.analyze:analyze_responses"),
        JobKind(
            "generate_own_answers",
            "gpu",
            OwnAnswersSpec,
            "workers.jobs.own_answers:generate_own_answers",
        ),
        JobKind("scan", "gpu", ScanJobSpec, "workers.jobs.scan:run_scan_job"),
        JobKind("llm_judge", "gpu", LlmJudgeSpec, "workers.jobs.llm_judge:llm_judge"),
        JobKind(
            "token_surprise", "gpu", TokenSurpriseSpec, "workers.jobs.token_surprise:token_surprise"
        ),
        # issue 12: one job per (strategy, seed) training run, one per evaluated model
        JobKind(
            "validation_train", "gpu", ValidationTrainSpec, "workers.jobs.validation:train_run"
        ),
        JobKind(
            "validation_eval", "gpu", ValidationEvalSpec, "workers.jobs.validation:evaluate_run"
        ),
        # issue 23: one question answered by the untuned target and trained adapters
        JobKind("playground", "gpu", PlaygroundSpec, "workers.jobs.playground:answer_question"),
        # issue 21: a strategy lab sample: teacher calls wait on the network (their own
        # queue, so a long sample never holds up the cpu queue's light jobs); a sample that
        # asks the target itself, in the worker's process, is model work (gpu queue)
        JobKind(
            "lab_sample",
            "network",
            LabSampleSpec,
            "workers.jobs.lab:run_lab_sample",
            also_on=("gpu",),
        ),
    )
}


def get_kind(name: str) -> JobKind:
    """The kind called ``name``; on a typo the error suggests the closest one."""
    if name in KINDS:
        return KINDS[name]
    close = difflib.get_close_matches(name, list(KINDS), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise UnknownJobKindError(f"unknown job kind {name!r}{hint}")


QUEUES = ("cpu", "gpu", "network")
