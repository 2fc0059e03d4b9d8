"""``ModelBackend``: the narrow interface jobs and cores use to run a target model.

Four things, as lm-evaluation-harness gives every model one narrow interface: score the
log-probs of given token ids (``score``), generate greedily from token ids (``generate``,
optionally through a LoRA adapter), train an adapter (``train_adapter``) and evaluate.
Token ids in, never text, so tokenisation cannot drift between backends: prompts are built
once with the target's own tokenizer (``workers.scoring.prompts``).

Evaluation is not a method: it is ``generate`` through an adapter (or none) followed by
Familiar's own judge, ``workers.evaluation.run.evaluate_model(backend, ...)``, which builds
the prompts, calls ``backend.generate(..., adapter=..., on_answer=...)`` and judges each
answer with the validation's extractor (``app.evaluation.extractors``) as it ends. So every
backend evaluates the same way and two backends that generate the same texts give the same
predictions and accuracy (tests/backends/test_train_evaluate.py). A backend that reports
``on_tokens`` gets per-answer token counts and a tokens/s; one that does not gets zeros.

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
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from workers.scoring.items import ScoreItem, ScoreResult

if TYPE_CHECKING:  # workers.training imports torch; this module stays light
    from app.specs.training import TrainSettings
    from workers.training.types import CheckpointLog, Example, StepLog, TrainResult, ValExample

ProgressFn = Callable[..., None]
JudgeFn = Callable[[str, str], bool]  # (generated output, gold) -> correct


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

    def train_adapter(
        self,
        train: Sequence[Example],
        val: Sequence[ValExample],
        settings: TrainSettings,
        out_dir: Path,
        *,
        score: JudgeFn,
        on_step: Callable[[StepLog], None] | None = None,
        on_checkpoint: Callable[[CheckpointLog], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        until_step: int | None = None,
    ) -> TrainResult:
        """Train a LoRA adapter on ``train`` into ``out_dir`` (checkpoints validated on ``val``
        with ``score``), as ``workers.training.train_adapter`` does after the model and
        tokenizer: ``on_step`` after every optimizer step (it may raise to cancel),
        ``on_checkpoint`` after every validated checkpoint, ``should_stop`` polled per
        micro-batch (``TrainingCancelled``), ``until_step`` a budget (resumable). Raises
        ``BackendCapabilityError`` where the backend cannot train (registry ``trains=False``)."""
        ...
