"""``ModelBackend``: the narrow interface jobs and cores use to run a target model.

Four things, as lm-evaluation-harness gives every model one narrow interface: score the
log-probs of given token ids (``score``), generate greedily from token ids (``generate``,
optionally through a LoRA adapter), train an adapter (``train_adapter``) and describe
itself. Token ids in, never text, so tokenisation cannot drift between backends: prompts
are built once with the target's own tokenizer (``workers.scoring.prompts``).

An optional fifth, ``projected_gradients(items, settings, *, limit, on_progress)``, gives
per-item projected gradients of the response loss (``workers.scoring.gradients``); a
backend without it cannot scan a metric that needs ``gradients`` (GRACE), and a scan that
asks for one there is refused before any model work.

Progress callbacks may raise to cancel: a backend lets the exception through at its next
report and keeps what it delivered through ``on_batch`` / ``on_answer`` before that.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from workers.scoring.items import ScoreItem, ScoreResult

ProgressFn = Callable[..., None]


class BackendCapabilityError(RuntimeError):
    """The backend cannot do this (for example, a scoring-only backend asked to train)."""


@runtime_checkable
class ModelBackend(Protocol):
    kind: str  # the registry name (``app.backends``)
    version: str
    name: str  # the target model
    model_key: str  # stable id of the weights
    dtype: str  # "float32" | "bfloat16", as run
    device: str
    tokenizer: Any
    has_chat_template: bool

    @property
    def tag(self) -> str:
        """``kind@version``: what cache keys and stored values record."""
        ...

    def describe(self) -> dict[str, Any]: ...

    def max_length(self, requested: int | None) -> int:
        """The longest prompt + response scored: ``requested`` capped at the model's limit."""
        ...

    def score(
        self,
        items: Sequence[ScoreItem],
        *,
        max_length: int | None = None,
        token_budget: int | None = None,
        token_logprobs: bool = False,
        on_progress: Callable[[int, int, int], None] | None = None,
        on_batch: Callable[[dict[int, ScoreResult]], None] | None = None,
    ) -> list[ScoreResult]:
        """Summed NLL of each item's response tokens after its prefix (in input order)."""
        ...

    def generate(
        self,
        prompts: Sequence[Sequence[int]],
        *,
        max_new_tokens: int,
        adapter: Path | None = None,
        token_budget: int = 32768,
        on_progress: Callable[[int, int], None] | None = None,
        on_answer: Callable[[int, str], None] | None = None,
        on_eta: Callable[[float], None] | None = None,
        on_tokens: Callable[[int, int], None] | None = None,
    ) -> list[str]:
        """Greedy continuations of ``prompts`` (stripped texts, input order)."""
        ...

    def train_adapter(self, *args: Any, **kwargs: Any) -> Any:
        """LoRA fine-tuning (``workers.training.train_adapter``'s arguments after the model
        and tokenizer); ``BackendCapabilityError`` where the backend cannot train."""
        ...
