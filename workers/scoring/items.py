"""What a scoring item is and the rules every scorer shares.

An item is (prefix ids, response ids); the loss covers response tokens only.

Rules (definitions, shared by the fast scorer and the reference so both compute the same
quantity):
- Token j of the response is predicted from everything before it: the whole prefix and
  response tokens < j. With an EMPTY prefix the first response token has no context and is
  not scored (the response-alone case of tokenizers without BOS, see ``prompts``).
- Over-long inputs: when len(prefix) + len(response) exceeds the limit (the configured
  max_length, capped by the model's maximum positions), the response is cut from its END to
  fit and the result is flagged ``truncated=True``; a prefix that alone fills the limit
  leaves no response token (n_tokens=0, NaN, truncated).
- Nothing to score (empty response, or a one-token response with an empty prefix): n_tokens=0,
  mean NLL and PPL are NaN, ``empty=True``. Never 0, never an exception.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ScoreItem:
    """One response to score after one prefix."""

    prefix_ids: tuple[int, ...]
    response_ids: tuple[int, ...]


@dataclass
class ScoreResult:
    """Loss of one item over its scored response tokens."""

    sum_nll: float
    n_tokens: int
    truncated: bool = False
    empty: bool = False
    token_logprobs: list[float] | None = None

    @property
    def mean_nll(self) -> float:
        return self.sum_nll / self.n_tokens if self.n_tokens else math.nan

    @property
    def ppl(self) -> float:
        return math.exp(self.mean_nll) if self.n_tokens else math.nan

    @property
    def mean_logprob(self) -> float:
        return -self.mean_nll


def effective_max_length(model: Any, max_length: int | None) -> int:
    """The sequence-length limit: ``max_length`` capped by the model's maximum positions."""
    limits = [max_length] if max_length else []
    config = getattr(model, "config", None)
    for attr in ("max_position_embeddings", "n_positions"):
        value = getattr(config, attr, None)
        if isinstance(value, int) and value > 0:
            limits.append(value)
            break
    return min(limits) if limits else 1 << 30


def clip_response(item: ScoreItem, limit: int) -> tuple[tuple[int, ...], bool]:
    """The response ids that fit under ``limit`` and whether any were cut."""
    room = max(limit - len(item.prefix_ids), 0)
    if len(item.response_ids) <= room:
        return item.response_ids, False
    return item.response_ids[:room], True


def n_scored(prefix_len: int, response_len: int) -> int:
    """How many response tokens get a loss (the first is context-only without a prefix)."""
    return response_len if prefix_len > 0 else max(response_len - 1, 0)


def unscorable(truncated: bool) -> ScoreResult:
    """The result of an item with no token to score."""
    return ScoreResult(sum_nll=0.0, n_tokens=0, truncated=truncated, empty=not truncated)


def planned_tokens(items: Sequence[ScoreItem], limit: int) -> int:
    """The tokens batched scoring will run through the model: each distinct prefix once and
    every response as clipped to ``limit`` (what its progress counts as tokens processed);
    items with nothing to score are answered without the model and count nothing."""
    prefixes: set[tuple[int, ...]] = set()
    responses = 0
    for item in items:
        response, _ = clip_response(item, limit)
        if n_scored(len(item.prefix_ids), len(response)) > 0:
            prefixes.add(item.prefix_ids)
            responses += len(response)
    return sum(len(p) for p in prefixes) + responses
