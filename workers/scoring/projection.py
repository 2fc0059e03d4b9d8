"""A seeded Rademacher (Johnson-Lindenstrauss) projection that never exists as a whole.

``project(grads)`` returns ``grads @ R / sqrt(D)`` for a ``D x dim`` matrix ``R`` of +-1
entries, scaled as the GRACE reference scales its projected gradients (TRAK's Rademacher
projector, then division by the square root of the gradient dimension). ``R`` is made
``chunk_rows`` rows at a time, each chunk from its own generator seeded by (seed, chunk
index), so the same seed gives the same ``R`` whatever the batch, and memory holds one
``chunk_rows x dim`` block at a time. Float32 throughout (the reference projects in bfloat16
on a GPU: a departure towards precision).
"""

from __future__ import annotations

import math

import torch

CHUNK_ROWS = 1 << 14


def rademacher_rows(seed: int, chunk: int, rows: int, dim: int) -> torch.Tensor:
    """Chunk ``chunk`` of ``R``: ``rows x dim`` entries of +-1 (float32)."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + chunk)
    bits = torch.randint(0, 2, (rows, dim), generator=generator, dtype=torch.int8)
    return bits.to(torch.float32).mul_(2).sub_(1)


def project(
    grads: torch.Tensor, *, dim: int, seed: int, chunk_rows: int = CHUNK_ROWS
) -> torch.Tensor:
    """``grads`` (n x D, any device) projected to n x ``dim``, scaled by 1/sqrt(D)."""
    n, total = grads.shape
    out = torch.zeros(n, dim, dtype=torch.float32, device=grads.device)
    for chunk, start in enumerate(range(0, total, chunk_rows)):
        stop = min(start + chunk_rows, total)
        block = rademacher_rows(seed, chunk, stop - start, dim).to(grads.device)
        out += grads[:, start:stop].to(torch.float32) @ block
    return out / math.sqrt(total)


def dense_matrix(total: int, *, dim: int, seed: int, chunk_rows: int = CHUNK_ROWS) -> torch.Tensor:
    """The whole ``R`` (tests of tiny models only: it is D x dim)."""
    blocks = [
        rademacher_rows(seed, chunk, min(chunk_rows, total - start), dim)
        for chunk, start in enumerate(range(0, total, chunk_rows))
    ]
    return torch.cat(blocks)
