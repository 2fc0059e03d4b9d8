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

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from transformers import PrinterCallback

from app.specs.training import TrainSettings
from workers.training import checkpoints as ckpt
from workers.training.attention import plain_attention
from workers.training.batching import LengthGroupedOrder, PadCollator
from workers.training.examples import check_lora_targets, encode_example, end_of_turn_id
from workers.training.hardware import rank_batches, world
from workers.training.hooks import ScoreFn, _FamiliarTrainer, _Progress, _Run
from workers.training.loss import supports_response_head
from workers.training.types import (
    CheckpointLog,
    Example,
    StepLog,
    TrainingError,
    TrainingInputError,
    TrainResult,
    ValExample,
)

RESPONSE_HEAD = True  # LM head on response positions only (``loss``); measured in the bench
AUTOCAST = True  # bf16 runs: LoRA matmuls under autocast instead of casting activations up
EXECUTION_ONLY = ("processes", "strategy", "gradient_checkpointing", "collective_timeout_s")
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
    _check_inputs(model, train, settings, until_step)
    dtype = resolve_precision(settings.precision, str(next(model.parameters()).device))
    eot = end_of_turn_id(tokenizer)
    encoded, notes = _encode(tokenizer, train, settings, eot)
    total = total_steps(len(encoded), settings)
    _claim(out_dir, settings, encoded, val, total)
    if _cast(model, TORCH_DTYPES[dtype]):
        notes.append(
            f"the model was cast to {dtype} for training (load it in {dtype} to avoid the copy)"
        )
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eot
    hooks = (on_step, on_checkpoint, should_stop, until_step)
    run = _Run(settings, out_dir, tokenizer, val, score, eot, pad_id, total, *hooks)
    run.rank, run.world = world()
    done = ckpt.complete_checkpoints(out_dir)
    resumed_from = done[-1].step if done else None
    if resumed_from is None or resumed_from < min(total, until_step or total):
        _train_with_oom_retry(model, run, encoded, dtype, settings, notes)
    found = ckpt.complete_checkpoints(out_dir)
    best, note = ckpt.best_checkpoint(found, settings.select_by)
    return TrainResult(
        best=best,
        checkpoints=found,
        steps=run.steps,
        train_tokens=sum(s.tokens for s in run.steps),
        seconds=time.perf_counter() - started,
        stopped_early=found[-1].step < total,
        dtype=dtype,
        effective_batch=settings.effective_batch,
        total_steps=total,
        resumed_from=resumed_from,
        notes=notes + ([note] if note else []),
    )


def claim_run_folder(
    tokenizer: Any,
    train: Sequence[Example],
    val: Sequence[ValExample],
    settings: TrainSettings,
    out_dir: Path,
) -> None:
    """Claim ``out_dir`` for this run as ``train_adapter`` does (a process group's parent
    does it once, before its ranks start, so no two ranks write ``run.json`` at once)."""
    if not train:
        raise TrainingInputError("no training examples")
    encoded, _ = _encode(tokenizer, train, settings, end_of_turn_id(tokenizer))
    _claim(Path(out_dir), settings, encoded, val, total_steps(len(encoded), settings))


def _check_inputs(
    model: Any, train: Sequence[Example], settings: TrainSettings, until_step: int | None
) -> None:
    if not train:
        raise TrainingInputError("no training examples")
    if until_step is not None and until_step < 1:
        raise TrainingInputError("until_step: must be at least 1")
    check_lora_targets(model, settings.target_modules)


def _encode(
    tokenizer: Any, train: Sequence[Example], settings: TrainSettings, eot: int
) -> tuple[list[Any], list[str]]:
    """The encoded examples, and a note when some were cut to ``max_length``."""
    encoded = [
        encode_example(tokenizer, ex.question, ex.response, settings.max_length, eot=eot)
        for ex in train
    ]
    cut = sum(e.truncated for e in encoded)
    notes = [
        f"{cut} of {len(encoded)} training examples were cut to max_length "
        f"{settings.max_length} tokens"
    ]
    return encoded, notes if cut else []


def _claim(
    out_dir: Path,
    settings: TrainSettings,
    encoded: list[Any],
    val: Sequence[ValExample],
    total: int,
) -> None:
    """The run folder for this exact run (``checkpoints.claim_run``), staging cleared."""
    fingerprint = ckpt.fingerprint(
        run_identity(settings),
        [e.input_ids for e in encoded],
        [(v.question_id, v.question, v.gold, v.response) for v in val],
    )
    ckpt.claim_run(
        out_dir,
        {
            "fingerprint": fingerprint,
            "settings": settings.to_dict(),
            "examples": len(encoded),
            "total_steps": total,
        },
    )
    ckpt.clear_staging(out_dir)


def run_identity(settings: TrainSettings) -> dict[str, Any]:
    """The settings that decide what a run computes: how it is executed (processes, sharding,
    recomputed activations, timeouts) is left out, so a run started on 2 processes resumes on
    1 and the other way round; ``load_in_4bit`` changes the numbers and stays in when on."""
    out = settings.to_dict()
    for name in EXECUTION_ONLY:
        out.pop(name, None)
    if not out.get("load_in_4bit"):
        out.pop("load_in_4bit", None)
    return out


def _cast(model: Any, dtype: torch.dtype) -> bool:
    if next(model.parameters()).dtype == dtype or getattr(model, "is_loaded_in_4bit", False):
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
    micro, accum = rank_batches(settings, run.world)
    tried: list[int] = []
    while True:
        try:
            _train_once(model, run, encoded, dtype, micro, accum)
            return
        except (torch.OutOfMemoryError, RuntimeError) as exc:
            if not _is_oom(exc) or run.world > 1:
                raise  # a process group cannot halve one rank's micro-batch alone
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
            notes.append(
                f"out of memory with micro-batch {tried[-1]}: continued with "
                f"micro-batch {micro} x {accum} accumulation steps (same effective "
                f"batch {settings.effective_batch})"
            )


def _train_once(model, run: _Run, encoded, dtype: str, micro: int, accum: int) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import set_seed

    settings = run.settings
    set_seed(settings.seed)
    config = LoraConfig(
        r=settings.lora_r,
        lora_alpha=settings.lora_alpha,
        lora_dropout=settings.lora_dropout,
        target_modules=list(settings.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )
    was_training, use_cache = model.training, getattr(model.config, "use_cache", None)
    # the response-only LM head calls the decoder directly, past DDP's forward (which
    # readies its gradient all-reduce): a process group uses the model's own loss
    run.response_head = RESPONSE_HEAD and supports_response_head(model) and run.world == 1
    run.autocast = torch.bfloat16 if AUTOCAST and dtype == "bfloat16" else None
    if getattr(model, "is_loaded_in_4bit", False):
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    peft_model = get_peft_model(model, config)
    try:
        trainer = _make_trainer(peft_model, run, encoded, dtype, micro, accum)
        done = ckpt.complete_checkpoints(run.out_dir)
        with plain_attention(model):
            trainer.train(resume_from_checkpoint=str(done[-1].path) if done else None)
    finally:
        ckpt.clear_staging(run.out_dir)
        peft_model.unload()
        if settings.gradient_checkpointing and model.is_gradient_checkpointing:
            model.gradient_checkpointing_disable()  # the cached model goes back as it came
        if use_cache is not None:
            model.config.use_cache = use_cache  # the Trainer switches the KV cache off
        model.train(was_training)
        model.requires_grad_(False)


def _scaling_args(settings: TrainSettings, on_cpu: bool, world_size: int) -> dict[str, Any]:
    """TrainingArguments for recomputed activations and for a process group (accelerate
    wraps the model in DDP, or FSDP, from these and the torchrun environment)."""
    args: dict[str, Any] = {
        "gradient_checkpointing": settings.gradient_checkpointing,
        # non-reentrant: works with a frozen base (no input that requires grad) and on CPU
        "gradient_checkpointing_kwargs": {"use_reentrant": False},
    }
    if world_size < 2:  # one process: accelerate must not look for a process group
        return args
    args |= {
        "ddp_timeout": settings.collective_timeout_s,
        "ddp_backend": "gloo" if on_cpu else "nccl",
        "ddp_find_unused_parameters": False,
        "average_tokens_across_devices": True,  # the loss over the global batch's tokens
    }
    if settings.strategy == "fsdp":
        args["fsdp"] = "full_shard auto_wrap"
        args["fsdp_config"] = {"use_orig_params": True}  # frozen base + trainable LoRA
    return args


def _make_trainer(peft_model, run: _Run, encoded, dtype: str, micro: int, accum: int):
    from transformers import TrainingArguments

    settings = run.settings
    on_cpu = next(peft_model.parameters()).device.type == "cpu"
    args = TrainingArguments(
        output_dir=str(run.out_dir),
        per_device_train_batch_size=micro,
        gradient_accumulation_steps=accum,
        learning_rate=settings.learning_rate,
        lr_scheduler_type="linear",
        warmup_steps=int(settings.warmup_ratio * run.total),
        weight_decay=0.0,
        max_grad_norm=1.0,
        max_steps=run.total,
        optim="adamw_torch",
        logging_steps=1,
        save_strategy="steps",
        save_steps=steps_between_checkpoints(len(encoded), settings),
        seed=settings.seed,
        data_seed=settings.seed,
        use_cpu=on_cpu,
        report_to=[],
        disable_tqdm=True,
        remove_unused_columns=False,
        dataloader_num_workers=0,
        fp16=dtype == "float16",
        bf16=False,
        **_scaling_args(settings, on_cpu, run.world),
    )
    rows = [{"input_ids": e.input_ids, "labels": e.labels} for e in encoded]
    trainer = _FamiliarTrainer(
        model=peft_model,
        args=args,
        train_dataset=rows,
        data_collator=PadCollator(run.pad_id),
    )
    trainer.familiar = run
    trainer.familiar_order = LengthGroupedOrder(
        [e.length for e in encoded], settings.effective_batch, settings.seed
    )
    trainer.remove_callback(PrinterCallback)  # progress goes to on_step, not stdout
    trainer.add_callback(_Progress(trainer))
    return trainer
