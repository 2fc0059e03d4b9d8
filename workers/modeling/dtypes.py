"""Which floating-point type to run the target model in.

Decision ("auto"): bfloat16 only where it is measurably faster than float32 on the device
that runs the model, else float32.

- CUDA: bfloat16 when the GPU supports it (tensor cores make it several times faster).
- CPU: measured, not assumed. A linear layer of the shape transformer blocks use is timed in
  both types and bfloat16 is chosen only if it is at least ``BF16_MIN_GAIN`` times faster.
  On the 2-core AMD EPYC (AVX2, no AVX512-BF16/AMX) this project was built on, torch 2.13
  measured F.linear at ~176 GFLOP/s in float32 and ~19 GFLOP/s in bfloat16 (a square
  ``a @ b`` in bfloat16 even ran at ~1 GFLOP/s), so "auto" resolves to float32 there.
  CPUs with AMX or AVX512-BF16 (Sapphire Rapids, Zen 4+) resolve to bfloat16.

The measurement takes well under a second and is memoised per process and device.
"""

from __future__ import annotations

import functools
import time

import torch
import torch.nn.functional as F

DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "bfloat16": torch.bfloat16}
BF16_MIN_GAIN = 1.25


def resolve_device(device: str) -> str:
    """Resolve "auto" to "cuda" when a GPU is visible, else "cpu"; other names pass through."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def linear_rate(
    dtype: torch.dtype, device: str = "cpu", *, rows: int = 256, seconds: float = 0.1
) -> float:
    """FLOP/s of F.linear on a [rows, 1024] x [1024, 1024] problem in ``dtype`` (best run)."""
    x = torch.randn(rows, 1024, dtype=dtype, device=device)
    w = torch.randn(1024, 1024, dtype=dtype, device=device)
    return _best_rate(lambda: F.linear(x, w), 2 * rows * 1024 * 1024, device, seconds)


def square_matmul_rate(
    dtype: torch.dtype, n: int = 1024, device: str = "cpu", *, seconds: float = 1.0
) -> float:
    """FLOP/s of a square ``n x n`` matmul in ``dtype`` (best of several timed runs)."""
    a = torch.randn(n, n, dtype=dtype, device=device)
    b = torch.randn(n, n, dtype=dtype, device=device)
    return _best_rate(lambda: a @ b, 2 * n**3, device, seconds)


def _best_rate(fn, flops: int, device: str, seconds: float) -> float:
    """Run ``fn`` repeatedly for about ``seconds``; return the best single-call FLOP/s."""
    fn()  # warm-up (allocations, kernel selection)
    best = float("inf")
    deadline = time.perf_counter() + seconds
    runs = 0
    while runs < 3 or time.perf_counter() < deadline:
        start = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
        runs += 1
    return flops / best


@functools.lru_cache(maxsize=8)
def auto_dtype(device: str) -> str:
    """The dtype name "auto" resolves to on ``device`` (see the module docstring)."""
    if device.startswith("cuda"):
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
    if device != "cpu":
        return "float32"
    return "bfloat16" if bf16_gain(device) >= BF16_MIN_GAIN else "float32"


def bf16_gain(device: str = "cpu", rounds: int = 3) -> float:
    """bfloat16 over float32 F.linear speed, each the best of ``rounds`` interleaved runs.

    Interleaving matters on a shared machine: another process busy during one type's whole
    measurement window once made "auto" pick float32 on a CPU where bfloat16 is 4-7x faster.
    """
    best = {torch.bfloat16: 0.0, torch.float32: 0.0}
    for _ in range(rounds):
        for dtype in best:
            best[dtype] = max(best[dtype], linear_rate(dtype, device, seconds=0.08))
    return best[torch.bfloat16] / best[torch.float32]


def resolve_dtype(dtype: str, device: str) -> str:
    """Resolve a requested dtype name ("auto", "float32", "bfloat16") to a concrete one."""
    if dtype == "auto":
        return auto_dtype(device)
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; use one of: auto, {', '.join(DTYPES)}")
    return dtype
