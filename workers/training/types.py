"""Inputs, progress records, results and errors of LoRA training (no torch here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class TrainingError(RuntimeError):
    """Training failed in a way the user must see (the message says what to do)."""


class TrainingInputError(TrainingError, ValueError):
    """Bad input known before any heavy work (e.g. missing LoRA target modules)."""


class TrainingCancelled(TrainingError):
    """``should_stop()`` returned True: training stopped after the current micro-step; the
    checkpoints written so far are kept (``last`` is the latest complete one, or None)."""

    def __init__(self, step: int, last: CheckpointLog | None) -> None:
        self.step, self.last = step, last
        kept = f"checkpoint of step {last.step} kept" if last else "no checkpoint yet"
        super().__init__(f"training cancelled at step {step} ({kept})")


class CheckpointWriteError(TrainingError):
    """A checkpoint could not be written (e.g. the disk is full); nothing half-written is
    left that looks complete."""


@dataclass(frozen=True)
class Example:
    """One training example: the question (user turn) and the strategy's response."""

    question: str
    response: str


@dataclass(frozen=True)
class ValExample:
    """One validation question with its gold answer (for accuracy on generated answers)."""

    question_id: str
    question: str
    gold: str
    response: str | None = None  # the strategy's response: validation loss is computed on it


@dataclass(frozen=True)
class StepLog:
    """One optimizer step: the mean training loss over its response tokens."""

    step: int  # 1-based optimizer step
    total_steps: int
    loss: float
    tokens: int  # tokens through the model in this step (prompt + response, no padding)
    tokens_per_s: float
    seconds_left: float | None  # training steps only (validation not included)
    learning_rate: float = 0.0


@dataclass(frozen=True)
class CheckpointLog:
    """One complete checkpoint and its validation results."""

    step: int
    val_loss: float | None  # mean NLL per response token over the validation split
    val_accuracy: float | None  # share of validation questions answered correctly (0..1)
    path: Path  # the checkpoint folder (an adapter folder load_adapter accepts)
    predictions: list[str] = field(default_factory=list, repr=False)  # generated answers


@dataclass
class TrainResult:
    best: CheckpointLog
    checkpoints: list[CheckpointLog]
    steps: list[StepLog]  # the steps run in THIS call (a resumed call starts after the resume)
    train_tokens: int  # tokens through the model in this call's steps
    seconds: float  # wall time of this call
    stopped_early: bool  # True when ``until_step`` ended it before the last step
    dtype: str
    effective_batch: int
    total_steps: int = 0
    resumed_from: int | None = None  # step of the checkpoint this call resumed from
    notes: list[str] = field(default_factory=list)
