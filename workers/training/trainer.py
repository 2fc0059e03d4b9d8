"""``train_adapter``: LoRA fine-tuning with peft and the transformers ``Trainer``.

Decisions:
- Library: peft for the adapter, the transformers ``Trainer`` for the loop (AdamW, linear
  schedule with warm-up, gradient accumulation with the loss normalised over the response
  tokens of the whole optimizer step, checkpoint save and exact resume of optimizer,
  scheduler, RNG and data position). TRL's ``SFTTrainer`` adds nothing needed here (the
  examples are built by ``examples.encode_example`` so training and evaluation share one
  prompt) and would pull in ``datasets``. Three hooks are overridden: the sampler
  (length-grouped, ``batching``), ``compute_loss`` (records the step's loss and tokens,
  polls for cancel) and ``_save_checkpoint`` (validation, then a staged write renamed into
  place, ``checkpoints``).
- Steps: ``total_steps = ceil(epochs x ceil(n / effective_batch))``; the schedule always
  spans ``total_steps``, also when ``until_step`` stops earlier, so a run continued with a
  larger budget is the same run as one never stopped.
- Attention: on a CPU, small batches train with plain matmul attention instead of SDPA's
  flash kernel (about twice as fast there; ``attention``).
- Precision: ``auto`` resolves as scans resolve it (``workers.modeling.dtypes``: bfloat16
  only where measured faster). The base model runs in that dtype; the LoRA weights stay in
  float32 (peft's default), so the small updates of lr 2e-5 are not rounded away. float16
  uses the Trainer's fp16 mixed precision (grad scaler) and needs a GPU.
- Base model: wrapped by peft for the run and unwrapped in every case at the end (its
  weights never change; a model loaded once trains every strategy in turn).
- Cancel: ``should_stop()`` is polled before every micro-batch and during validation; when it
  returns True, ``TrainingCancelled`` is raised (the step in progress is dropped, every
  complete checkpoint is kept). Exceptions from ``on_step``/``on_checkpoint`` (a job's
  cancel raised by ``JobContext.progress``) propagate unchanged, the same way.
- Out of memory: the micro-batch is halved and gradient accumulation doubled (same effective
  batch, same examples per step), the run resumes from its last checkpoint, and a note says
  so; a micro-batch that cannot be halved fails with a message naming the sizes tried.
- Full disk while checkpointing: ``CheckpointWriteError`` naming the step and folder; the
  staged folder is removed, so no half-written checkpoint is ever found on resume.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import PrinterCallback, Trainer, TrainerCallback

from app.specs.training import TrainSettings
from workers.training import checkpoints as ckpt
from workers.training.attention import plain_attention
from workers.training.batching import LengthGroupedOrder, PadCollator
from workers.training.examples import check_lora_targets, encode_example, end_of_turn_id
from workers.training.loss import response_head_loss, supports_response_head
from workers.training.types import (
    CheckpointLog,
    CheckpointWriteError,
    Example,
    StepLog,
    TrainingCancelled,
    TrainingError,
    TrainingInputError,
    TrainResult,
    ValExample,
)
from workers.training.validation import validation_accuracy, validation_loss

ScoreFn = Callable[[str, str], bool]  # (model output, gold) -> correct
RESPONSE_HEAD = True  # LM head on response positions only (``loss``); measured in the bench
AUTOCAST = True  # bf16 runs: LoRA matmuls under autocast instead of casting activations up
TORCH_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_precision(precision: str, device: str) -> str:
    """The dtype name ``precision`` resolves to on ``device`` ("auto" as scans choose it)."""
    from workers.modeling.dtypes import resolve_dtype

    if precision == "float16":
        if not str(device).startswith("cuda"):
            raise TrainingInputError("precision: float16 training needs a GPU; use auto")
        return "float16"
    return resolve_dtype(precision, str(device))


def total_steps(n_examples: int, settings: TrainSettings) -> int:
    per_epoch = math.ceil(n_examples / settings.effective_batch)
    return max(1, math.ceil(settings.epochs * per_epoch))


def steps_between_checkpoints(n_examples: int, settings: TrainSettings) -> int:
    return settings.eval_every or math.ceil(n_examples / settings.effective_batch)


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
    step_seconds: list[float] = field(default_factory=list)
    steps: list[StepLog] = field(default_factory=list)
    new_checkpoints: list[CheckpointLog] = field(default_factory=list)

    def check(self, step: int) -> None:
        if self.should_stop is not None and self.should_stop():
            done = ckpt.complete_checkpoints(self.out_dir)
            raise TrainingCancelled(step, done[-1] if done else None)


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
    """Train a LoRA adapter on ``train``; checkpoint and validate every ``eval_every`` steps
    (0: every epoch) and at the last step (or ``until_step``). See the module docstring.

    Called again on the same ``out_dir`` (a killed worker, a larger ``until_step``), it
    resumes from the latest complete checkpoint; a call whose budget is already reached
    trains nothing and returns the checkpoints found.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    if not train:
        raise TrainingInputError("no training examples")
    if until_step is not None and until_step < 1:
        raise TrainingInputError("until_step: must be at least 1")
    check_lora_targets(model, settings.target_modules)
    device = next(model.parameters()).device
    dtype = resolve_precision(settings.precision, str(device))
    notes: list[str] = []
    eot = end_of_turn_id(tokenizer)
    encoded = [encode_example(tokenizer, ex.question, ex.response, settings.max_length, eot=eot)
               for ex in train]  # fmt: skip
    cut = sum(e.truncated for e in encoded)
    if cut:
        notes.append(f"{cut} of {len(encoded)} training examples were cut to max_length "
                     f"{settings.max_length} tokens")  # fmt: skip
    total = total_steps(len(encoded), settings)
    ckpt.claim_run(out_dir, {
        "fingerprint": ckpt.fingerprint(settings.to_dict(), [e.input_ids for e in encoded],
                                        [(v.question_id, v.question, v.gold, v.response)
                                         for v in val]),
        "settings": settings.to_dict(), "examples": len(encoded), "total_steps": total,
    })  # fmt: skip
    ckpt.clear_staging(out_dir)
    if _cast(model, TORCH_DTYPES[dtype]):
        notes.append(f"the model was cast to {dtype} for training (load it in {dtype} to "
                     "avoid the copy)")  # fmt: skip
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eot
    run = _Run(settings, out_dir, tokenizer, val, score, eot, pad_id, total, on_step,
               on_checkpoint, should_stop, until_step)  # fmt: skip
    goal = min(total, until_step or total)
    done = ckpt.complete_checkpoints(out_dir)
    resumed_from = done[-1].step if done else None
    if resumed_from is None or resumed_from < goal:
        _train_with_oom_retry(model, run, encoded, dtype, settings, notes)
    found = ckpt.complete_checkpoints(out_dir)
    best, note = ckpt.best_checkpoint(found, settings.select_by)
    notes += [note] if note else []
    return TrainResult(
        best=best, checkpoints=found, steps=run.steps,
        train_tokens=sum(s.tokens for s in run.steps),
        seconds=time.perf_counter() - started, stopped_early=found[-1].step < total,
        dtype=dtype, effective_batch=settings.effective_batch, total_steps=total,
        resumed_from=resumed_from, notes=notes,
    )  # fmt: skip


def _cast(model: Any, dtype: torch.dtype) -> bool:
    if next(model.parameters()).dtype == dtype:
        return False
    model.to(dtype)
    return True


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and (
        "out of memory" in text or "can't allocate memory" in text
    )


def _train_with_oom_retry(model, run, encoded, dtype, settings, notes) -> None:
    micro, accum = settings.batch_size, settings.grad_accum
    tried: list[int] = []
    while True:
        try:
            _train_once(model, run, encoded, dtype, micro, accum)
            return
        except (torch.OutOfMemoryError, RuntimeError) as exc:
            if not _is_oom(exc):
                raise
            tried.append(micro)
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            if micro % 2:
                raise TrainingError(
                    f"out of memory with micro-batch {', '.join(map(str, tried))} (effective "
                    f"batch {settings.effective_batch}); lower batch_size or max_length"
                ) from None
            micro, accum = micro // 2, accum * 2
            done = ckpt.complete_checkpoints(run.out_dir)  # the retry resumes from here
            run.steps = [st for st in run.steps if done and st.step <= done[-1].step]
            notes.append(f"out of memory with micro-batch {tried[-1]}: continued with "
                         f"micro-batch {micro} x {accum} accumulation steps (same effective "
                         f"batch {settings.effective_batch})")  # fmt: skip


def _train_once(model, run: _Run, encoded, dtype: str, micro: int, accum: int) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import set_seed

    settings = run.settings
    set_seed(settings.seed)
    config = LoraConfig(
        r=settings.lora_r, lora_alpha=settings.lora_alpha, lora_dropout=settings.lora_dropout,
        target_modules=list(settings.target_modules), bias="none", task_type="CAUSAL_LM",
    )  # fmt: skip
    was_training, use_cache = model.training, getattr(model.config, "use_cache", None)
    run.response_head = RESPONSE_HEAD and supports_response_head(model)
    run.autocast = torch.bfloat16 if AUTOCAST and dtype == "bfloat16" else None
    peft_model = get_peft_model(model, config)
    try:
        trainer = _make_trainer(peft_model, run, encoded, dtype, micro, accum)
        done = ckpt.complete_checkpoints(run.out_dir)
        with plain_attention(model):
            trainer.train(resume_from_checkpoint=str(done[-1].path) if done else None)
    finally:
        ckpt.clear_staging(run.out_dir)
        peft_model.unload()
        if use_cache is not None:
            model.config.use_cache = use_cache  # the Trainer switches the KV cache off
        model.train(was_training)
        model.requires_grad_(False)


def _make_trainer(peft_model, run: _Run, encoded, dtype: str, micro: int, accum: int):
    from transformers import TrainingArguments

    settings = run.settings
    on_cpu = next(peft_model.parameters()).device.type == "cpu"
    args = TrainingArguments(
        output_dir=str(run.out_dir), per_device_train_batch_size=micro,
        gradient_accumulation_steps=accum, learning_rate=settings.learning_rate,
        lr_scheduler_type="linear", warmup_steps=int(settings.warmup_ratio * run.total),
        weight_decay=0.0, max_grad_norm=1.0, max_steps=run.total, optim="adamw_torch",
        logging_steps=1, save_strategy="steps",
        save_steps=steps_between_checkpoints(len(encoded), settings),
        seed=settings.seed, data_seed=settings.seed, use_cpu=on_cpu, report_to=[],
        disable_tqdm=True, remove_unused_columns=False, dataloader_num_workers=0,
        fp16=dtype == "float16", bf16=False,
    )  # fmt: skip
    rows = [{"input_ids": e.input_ids, "labels": e.labels} for e in encoded]
    trainer = _FamiliarTrainer(
        model=peft_model, args=args, train_dataset=rows, data_collator=PadCollator(run.pad_id),
    )  # fmt: skip
    trainer.familiar = run
    trainer.familiar_order = LengthGroupedOrder(
        [e.length for e in encoded], settings.effective_batch, settings.seed
    )
    trainer.remove_callback(PrinterCallback)  # progress goes to on_step, not stdout
    trainer.add_callback(_Progress(trainer))
    return trainer


class _FamiliarTrainer(Trainer):
    familiar: _Run
    familiar_order: LengthGroupedOrder
    _staging = False

    def _get_train_sampler(self, train_dataset=None):
        return self.familiar_order

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        run = self.familiar
        run.check(self.state.global_step)
        base = model.get_base_model()
        with _autocast(run, model, inputs["input_ids"].device.type):
            if run.response_head and not return_outputs:
                loss = response_head_loss(base, inputs, num_items_in_batch)
            else:
                loss = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        value = loss[0] if return_outputs else loss
        share = 1.0 if num_items_in_batch is not None else 1 / self.args.gradient_accumulation_steps
        run.step_loss += float(value.detach()) * share
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
    val_loss, val_acc, predictions = _validate(trainer.model, run, step)
    staged = run.out_dir / ckpt.STAGING / f"checkpoint-{step}"
    try:
        ckpt.clear_staging(run.out_dir)
        trainer._staging = True
        try:
            save(model, trial)
        finally:
            trainer._staging = False
        ckpt.write_json_atomic(staged / ckpt.MARKER, {
            "step": step, "val_loss": val_loss, "val_accuracy": val_acc,
            "predictions": predictions, "question_ids": [v.question_id for v in run.val],
        })  # fmt: skip
        staged.rename(final)
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
        check = lambda: run.check(step)  # noqa: E731
        loss = validation_loss(model, run.tokenizer, run.val, max_length=settings.max_length,
                               batch_size=settings.batch_size, eot=run.eot, pad_id=run.pad_id,
                               check=check)  # fmt: skip
        acc, predictions = validation_accuracy(
            model, run.tokenizer, run.val, max_new_tokens=settings.val_max_new_tokens,
            score=run.score, check=check,
        )  # fmt: skip
    finally:
        model.train(was_training)
        config.use_cache = use_cache
    return loss, acc, predictions


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
        run.step_seconds.append(seconds)
        mean = sum(run.step_seconds) / len(run.step_seconds)
        goal = min(run.total, run.until_step or run.total)
        log = StepLog(
            step=state.global_step, total_steps=run.total, loss=run.step_loss,
            tokens=run.step_tokens, tokens_per_s=run.step_tokens / max(seconds, 1e-9),
            seconds_left=mean * max(0, goal - state.global_step),
            learning_rate=run.step_lr,
        )  # fmt: skip
        run.steps.append(log)
        if run.on_step is not None:
            run.on_step(log)
        if run.until_step is not None and state.global_step >= run.until_step:
            control.should_save = True
            control.should_training_stop = True
        return control
