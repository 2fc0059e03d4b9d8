"""What one training call shares with the transformers ``Trainer`` (``_Run``) and the hooks
it overrides: the sampler, the loss (response positions only, a cancel poll per micro-batch),
the checkpoint write (validation first, staged then renamed into place) and progress."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import Trainer, TrainerCallback

from app.specs.training import TrainSettings
from workers.training import checkpoints as ckpt
from workers.training.batching import LengthGroupedOrder
from workers.training.loss import response_head_loss
from workers.training.types import (
    CheckpointLog,
    CheckpointWriteError,
    StepLog,
    TrainingCancelled,
    ValExample,
)
from workers.training.validation import validation_accuracy, validation_loss

ScoreFn = Callable[[str, str], bool]  # (model output, gold) -> correct


@dataclass
class _Run:
    """What one call shares with the Trainer hooks."""

    settings: TrainSettings
    out_dir: Path
    tokenizer: Any
    val: Sequence[ValExample]
    score: ScoreFn
    eot: int
    pad_id: int
    total: int
    on_step: Callable[[StepLog], None] | None
    on_checkpoint: Callable[[CheckpointLog], None] | None
    should_stop: Callable[[], bool] | None
    until_step: int | None
    step_loss: float = 0.0
    step_tokens: int = 0
    step_started: float = 0.0
    step_lr: float = 0.0
    response_head: bool = False
    autocast: torch.dtype | None = None
    rank: int = 0  # with a process group (``distributed``): rank 0 validates, saves, reports
    world: int = 1
    step_seconds: list[float] = field(default_factory=list)
    steps: list[StepLog] = field(default_factory=list)
    new_checkpoints: list[CheckpointLog] = field(default_factory=list)

    def check(self, step: int, *, group: bool = True) -> None:
        """Raise ``TrainingCancelled`` when ``should_stop()`` says so. In a process group
        (``group``) every rank calls this at the same point and rank 0's answer is broadcast,
        so all ranks stop at the same micro-batch; rank 0's own validation asks alone."""
        stop = self.should_stop is not None and self.should_stop()
        if group and self.world > 1:
            flag = torch.tensor([int(stop)], device=_collective_device())
            torch.distributed.broadcast(flag, 0)
            stop = bool(flag.item())
        if stop:
            done = ckpt.complete_checkpoints(self.out_dir)
            raise TrainingCancelled(step, done[-1] if done else None)


class _FamiliarTrainer(Trainer):
    familiar: _Run
    familiar_order: LengthGroupedOrder
    _staging = False

    def _get_train_sampler(self, train_dataset=None):
        return self.familiar_order

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        run = self.familiar
        run.check(self.state.global_step)
        with _autocast(run, model, inputs["input_ids"].device.type):
            if run.response_head and not return_outputs:
                loss = response_head_loss(model.get_base_model(), inputs, num_items_in_batch)
            else:  # in a process group ``model`` is the DDP wrapper: its forward syncs grads
                loss = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        value = loss[0] if return_outputs else loss
        share = 1.0 if num_items_in_batch is not None else 1 / self.args.gradient_accumulation_steps
        # this rank's share of the step's loss (summed over the ranks in ``on_step_end``)
        run.step_loss += float(value.detach()) * share / run.world
        run.step_tokens += int(inputs["attention_mask"].sum())
        return loss

    def _get_output_dir(self, trial):
        if self._staging:
            return str(self.familiar.out_dir / ckpt.STAGING)
        return super()._get_output_dir(trial)

    def _save_checkpoint(self, model, trial):
        _save_staged(self, model, trial, super()._save_checkpoint)


@contextlib.contextmanager
def _autocast(run: _Run, model, device_type: str):
    """bf16: autocast, and peft's cast of every LoRA input to float32 switched off (the LoRA
    weights stay float32; autocast runs their matmuls in bf16 and keeps their gradients)."""
    if run.autocast is None:
        yield
        return
    from peft.helpers import disable_input_dtype_casting

    with torch.autocast(device_type, dtype=run.autocast), disable_input_dtype_casting(model):
        yield


def _save_staged(trainer, model, trial, save) -> None:
    """Validate, write the checkpoint under ``.staging``, rename it into place."""
    run, step = trainer.familiar, trainer.state.global_step
    final = run.out_dir / f"checkpoint-{step}"
    if (final / ckpt.MARKER).is_file():
        return
    lead = run.rank == 0  # in a process group rank 0 validates and renames; all ranks save
    val_loss, val_acc, predictions = _validate(trainer.model, run, step) if lead else (None,) * 3
    staged = run.out_dir / ckpt.STAGING / f"checkpoint-{step}"
    wait = trainer.accelerator.wait_for_everyone  # a no-op in one process
    try:
        if lead:
            ckpt.clear_staging(run.out_dir)
        wait()
        trainer._staging = True
        try:
            save(model, trial)  # each rank writes its RNG state; rank 0 the rest
        finally:
            trainer._staging = False
        wait()
        if not lead:
            wait()
            return
        ckpt.write_json_atomic(
            staged / ckpt.MARKER,
            {
                "step": step,
                "val_loss": val_loss,
                "val_accuracy": val_acc,
                "predictions": predictions,
                "question_ids": [v.question_id for v in run.val],
            },
        )
        staged.rename(final)
        wait()
    except OSError as exc:
        ckpt.clear_staging(run.out_dir)
        done = ckpt.complete_checkpoints(run.out_dir)
        last = f"the last complete checkpoint is step {done[-1].step}" if done else "none yet"
        raise CheckpointWriteError(
            f"could not write the checkpoint of step {step} to {run.out_dir}: "
            f"{exc.strerror or exc} ({last}; nothing half-written was left)"
        ) from exc
    log = ckpt.read_checkpoint(final)
    run.new_checkpoints.append(log)
    if run.on_checkpoint is not None:
        run.on_checkpoint(log)


def _validate(model, run: _Run, step: int) -> tuple[float | None, float | None, list[str]]:
    settings = run.settings
    was_training, config = model.training, model.get_base_model().config
    use_cache, config.use_cache = config.use_cache, True  # the Trainer turns it off
    model.eval()
    try:
        check = lambda: run.check(step, group=False)  # noqa: E731
        loss = validation_loss(
            model,
            run.tokenizer,
            run.val,
            max_length=settings.max_length,
            batch_size=settings.batch_size,
            eot=run.eot,
            pad_id=run.pad_id,
            check=check,
        )
        acc, predictions = validation_accuracy(
            model,
            run.tokenizer,
            run.val,
            max_new_tokens=settings.val_max_new_tokens,
            score=run.score,
            check=check,
        )
    finally:
        model.train(was_training)
        config.use_cache = use_cache
    return loss, acc, predictions


def _collective_device() -> torch.device:
    if torch.distributed.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def _summed(loss: float, tokens: int) -> tuple[float, int]:
    """The step's loss and tokens summed over the ranks."""
    both = torch.tensor([loss, float(tokens)], dtype=torch.float64, device=_collective_device())
    torch.distributed.all_reduce(both)
    return float(both[0]), int(both[1])


class _Progress(TrainerCallback):
    """Trainer callback: one StepLog per optimizer step; stop at ``until_step``."""

    def __init__(self, trainer) -> None:
        self.trainer = trainer

    def on_step_begin(self, args, state, control, **kwargs):
        run = self.trainer.familiar
        run.step_loss, run.step_tokens, run.step_started = 0.0, 0, time.perf_counter()
        scheduler = self.trainer.lr_scheduler  # before its step: the rate this step uses
        run.step_lr = float(scheduler.get_last_lr()[0]) if scheduler is not None else 0.0

    def on_step_end(self, args, state, control, **kwargs):
        run = self.trainer.familiar
        seconds = time.perf_counter() - run.step_started
        if run.world > 1:
            run.step_loss, run.step_tokens = _summed(run.step_loss, run.step_tokens)
        run.step_seconds.append(seconds)
        mean = sum(run.step_seconds) / len(run.step_seconds)
        goal = min(run.total, run.until_step or run.total)
        log = StepLog(
            step=state.global_step,
            total_steps=run.total,
            loss=run.step_loss,
            tokens=run.step_tokens,
            tokens_per_s=run.step_tokens / max(seconds, 1e-9),
            seconds_left=mean * max(0, goal - state.global_step),
            learning_rate=run.step_lr,
        )
        run.steps.append(log)
        if run.on_step is not None:
            run.on_step(log)
        if run.until_step is not None and state.global_step >= run.until_step:
            control.should_save = True
            control.should_training_stop = True
        return control
