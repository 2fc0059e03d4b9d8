"""Measuring helpers of bench/gpu_check.py: rows, sizes, timing, peak memory, MFU."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L40S": 362e12, "A10": 125e12}


@dataclass
class Row:
    model: str
    backend: str
    task: str  # score | generate | lora_step | lora_step_2gpu
    tokens: int
    seconds: float
    params: int
    peak_mem_gb: float
    mfu: float | None

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


@dataclass
class Sizes:
    """How much work each row does."""

    n_items: int = 64
    prompt_len: int = 256
    response_len: int = 256
    n_prompts: int = 64
    max_new_tokens: int = 256
    train_batch: int = 8
    train_len: int = 512


SMOKE = Sizes(
    n_items=4,
    prompt_len=16,
    response_len=16,
    n_prompts=2,
    max_new_tokens=4,
    train_batch=2,
    train_len=32,
)


def peak_flops(device: str, given_tflops: float | None) -> float | None:
    if given_tflops:
        return given_tflops * 1e12
    if device != "cuda":
        return None
    name = torch.cuda.get_device_name(0)
    return next((v for k, v in PEAK_BF16.items() if k in name), None)


def reset_peak(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def peak_mem_gb(device: str, *, all_processes: bool = False) -> float:
    if device != "cuda":
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    torch.cuda.synchronize()
    if all_processes:
        free, total = torch.cuda.mem_get_info()
        return (total - free) / 2**30
    return torch.cuda.max_memory_allocated() / 2**30


def timed(fn: Callable[[], Any], device: str) -> tuple[Any, float]:
    if device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return out, time.perf_counter() - t0


def mfu(k: int, params: int, tokens: int, seconds: float, peak: float | None) -> float | None:
    """Model FLOP utilisation: k * params * tokens / seconds over the peak FLOP/s."""
    return k * params * tokens / seconds / peak if peak and seconds else None
