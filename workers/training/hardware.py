"""What the hardware must offer for a run's settings, checked before any work, and how a
run's optimizer step is split across processes.

Refusals (``TrainingInputError``, naming the setting and what is missing):
- ``load_in_4bit`` (QLoRA): bitsandbytes' 4-bit kernels need a CUDA GPU, and the package;
- ``strategy=fsdp``: sharding the base model is for GPUs (on a CPU, use ddp);
- ``processes`` on a GPU: at most one process per visible GPU (two ranks on one GPU would
  each hold a full copy and fight over its memory; NCCL refuses it anyway).

The split (``rank_batches``): the global batch (``batch_size x grad_accum`` examples per
optimizer step) stays what a 1-process run uses. With P processes each rank takes every
P-th micro-batch of the same example order (accelerate's ``BatchSamplerShard``), so each
optimizer step covers the same examples: grad_accum / P micro-batches of batch_size per rank
where grad_accum divides, else micro-batches of batch_size / P with the same grad_accum.
"""

from __future__ import annotations

import importlib.util

from app.specs.training import TrainSettings
from workers.training.types import TrainingInputError


def cuda_devices() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def check_hardware(settings: TrainSettings, device: str) -> None:
    """Raise ``TrainingInputError`` when this machine cannot run ``settings``."""
    gpus = cuda_devices()
    on_gpu = str(device).startswith("cuda") and gpus > 0
    if settings.load_in_4bit:
        if not on_gpu:
            raise TrainingInputError(
                "load_in_4bit: QLoRA's 4-bit base needs a CUDA GPU (bitsandbytes' kernels); "
                f"this worker trains on {device}. Switch load_in_4bit off"
            )
        if importlib.util.find_spec("bitsandbytes") is None:
            raise TrainingInputError(
                "load_in_4bit: bitsandbytes is not installed in the worker "
                "(pip install bitsandbytes); or switch load_in_4bit off"
            )
    if settings.strategy == "fsdp" and not on_gpu:
        raise TrainingInputError(
            f"strategy: fsdp shards the model across GPUs; this worker trains on {device}. "
            "Use strategy ddp"
        )
    if on_gpu and settings.processes > gpus:
        raise TrainingInputError(
            f"processes: {settings.processes} processes need {settings.processes} GPUs; "
            f"this worker sees {gpus} (CUDA_VISIBLE_DEVICES). Lower processes to {gpus}"
        )


def rank_batches(settings: TrainSettings, processes: int | None = None) -> tuple[int, int]:
    """(micro-batch, accumulation steps) of each rank for the run's global batch."""
    p = settings.processes if processes is None else processes
    if p == 1:
        return settings.batch_size, settings.grad_accum
    if settings.grad_accum % p == 0:
        return settings.batch_size, settings.grad_accum // p
    if settings.batch_size % p == 0:
        return settings.batch_size // p, settings.grad_accum
    raise TrainingInputError(
        f"processes: {p} processes cannot split batch_size {settings.batch_size} x "
        f"grad_accum {settings.grad_accum} evenly"
    )


def world() -> tuple[int, int]:
    """(this process's rank, the number of processes): torchrun's environment, else (0, 1)."""
    import os

    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
