"""What the lab's generation engine works on and hands back; pure data and rules."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.lab.teachers import Endpoint

# Simple refusal phrases, at the start of an answer (a refusal rarely hides mid-answer, and a
# maths answer that says "I can't be sure" later on is not a refusal).
REFUSAL = re.compile(
    r"^\s*(?:i'?m sorry|i am sorry|sorry,|i cannot|i can't|i can not|i won't|i will not|"
    r"i'm unable|i am unable|i'm not able|i am not able|as an ai\b)",
    re.IGNORECASE,
)
FAULT_KINDS = (
    "rate_limited",  # 429
    "server_error",  # 5xx
    "timeout",  # no answer within the request timeout (a stalled connection)
    "connection",  # refused or dropped
    "malformed",  # a body that is not a chat completion
    "client_error",  # another 4xx: not retried
    "gave_up",  # retries exhausted: the answer is missing
)


@dataclass(frozen=True)
class Price:
    """Per million tokens; zero for a local server."""

    prompt_per_mtok: float = 0.0
    completion_per_mtok: float = 0.0

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (
            prompt_tokens * self.prompt_per_mtok + completion_tokens * self.completion_per_mtok
        ) / 1e6


@dataclass(frozen=True)
class Params:
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 512

    def as_dict(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens}


@dataclass(frozen=True)
class LabRequest:
    """One answer to get: a question under one recipe version from one teacher."""

    recipe_version_id: int
    question_id: int
    question: str
    endpoint: Endpoint
    messages: list[dict[str, str]]
    params: Params
    price: Price = Price()
    prompt_tokens_estimate: int = 0
    strip_prefix: str = ""
    stop_marker: str = ""

    @property
    def cache_key(self) -> str:
        return cache_key(self)

    def worst_cost(self) -> float:
        """The most this request can cost: its prompt and every token it may generate."""
        return self.price.cost(self.prompt_tokens_estimate, self.params.max_tokens)


def cache_key(req: LabRequest) -> str:
    """sha256 of (endpoint, model, recipe version, sampling parameters, question, prompt)."""
    parts = [
        req.endpoint.base_url,
        req.endpoint.model,
        req.recipe_version_id,
        req.params.as_dict(),
        req.question,
        req.messages,
    ]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Answer:
    raw_text: str
    text: str
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    cost: float
    flags: tuple[str, ...]


def flags_for(text: str, finish_reason: str | None) -> tuple[str, ...]:
    flags = []
    if not text.strip():
        flags.append("empty")
    elif REFUSAL.match(text):
        flags.append("refused")
    if finish_reason == "length":
        flags.append("truncated")
    return tuple(flags)


@dataclass
class Fault:
    kind: str
    attempt: int
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)


class AnswerStore(Protocol):
    """Where answers and faults go as they happen (a database in the worker)."""

    def cached_keys(self, keys: list[str]) -> set[str]: ...

    def save_answer(self, req: LabRequest, answer: Answer) -> None: ...

    def save_fault(self, req: LabRequest, fault: Fault) -> None: ...


@dataclass
class RunReport:
    """What a run did: counts per recipe version, spend, faults, why it stopped early."""

    total: int = 0
    cached: int = 0
    answered: int = 0
    missing: int = 0
    skipped_budget: int = 0
    spent: float = 0.0
    stopped: str | None = None  # "budget" | "cancelled"
    budget_message: str | None = None
    faults: dict[str, int] = field(default_factory=dict)
    per_recipe: dict[int, dict[str, Any]] = field(default_factory=dict)
    error: BaseException | None = None  # what stopped it (a cancel), for the caller

    @property
    def done(self) -> int:
        return self.cached + self.answered + self.missing

    def recipe(self, version_id: int) -> dict[str, Any]:
        zero = {"answered": 0, "cached": 0, "missing": 0, "spent": 0.0, "prompt_tokens": 0}
        zero |= {"completion_tokens": 0, "empty": 0, "refused": 0, "truncated": 0}
        return self.per_recipe.setdefault(version_id, zero)
