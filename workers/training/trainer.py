"""``train_adapter``: LoRA fine-tuning with peft and the transformers ``Trainer``.

(Skeleton: the signatures and documented behaviour are stable; the body follows.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from app.specs.training import TrainSettings
from workers.training.types import CheckpointLog, Example, StepLog, TrainResult, ValExample

ScoreFn = Callable[[str, str], bool]  # (model output, gold) -> correct


def resolve_precision(precision: str, device: str) -> str:
    """The dtype name ``precision`` resolves to on ``device`` ("auto" as scans choose it)."""
    from workers.modeling.dtypes import resolve_dtype

    if precision == "float16":
        return "float16"
    return resolve_dtype(precision, device)


def train_adapter(
    model: Any,
    tokenizer: Any,
    train: Sequence[Example],
    val: Sequence[ValExample],
    settings: TrainSettings,
    out_dir: Path,
    *,
    score: ScoreFn,
    on_step: Callable[[StepLog], None] | None = None,
    on_checkpoint: Callable[[CheckpointLog], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    until_step: int | None = None,
) -> TrainResult:
    """Train a LoRA adapter on ``train``; checkpoint and validate every ``eval_every`` steps.

    - ``model`` is the frozen base model; it is wrapped with peft for the run and unwrapped
      at the end (base weights never change; the caller can reuse it).
    - Checkpoints go to ``out_dir/checkpoint-<step>`` (adapter, optimizer, scheduler, RNG
      and trainer state), each written to a temporary folder and renamed into place, so a
      folder with that name is always complete.
    - Called again on the same ``out_dir`` (a killed worker, a larger ``until_step``), it
      resumes from the latest complete checkpoint, not from step 0.
    - ``until_step``: stop (after checkpointing) at this optimizer step; the schedule is
      still the full run's, so a later call with a larger budget continues the same run.
    - ``should_stop()`` is polled after every micro-batch and during validation; when it
      returns True, ``TrainingCancelled`` is raised, keeping every complete checkpoint.
      Exceptions raised by ``on_step``/``on_checkpoint`` (e.g. a job's cancel) propagate
      unchanged, with the same guarantee.
    """
    raise NotImplementedError("train_adapter: implementation in progress on branch issue-12a")
