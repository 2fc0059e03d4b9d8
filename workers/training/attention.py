"""Attention for LoRA training on a CPU: plain matmuls and softmax where they are faster.

Why (measured on the 2-core CPU, torch 2.13, bfloat16, 9 heads of 64, forward + backward
of one layer): SDPA's CPU flash kernel took 29 ms for a batch of 8 x 250 tokens, 77 ms for
8 x 441 and 284 ms for 8 x 1024; transformers' ``eager`` attention 16, 48 and 213 ms; this
module's plain path 13, 38 and 164 ms. In a SmolLM2-135M training step, attention was a
third of the time under SDPA. The plain path keeps the whole attention matrix for the
backward pass, so it runs only where that matrix is small (``MAX_SAVED_BYTES`` per layer,
64 MiB: a batch of 8 x 9 heads up to about 660 tokens); bigger batches, evaluation
(no gradients), GPUs and models that do not use transformers' attention interface keep
SDPA.

The plain path differs from ``eager`` in two ways that change no result beyond rounding:
the scale is applied to the queries (T x D values, not T x T), and the softmax takes the
scores in the model's dtype (torch accumulates in float32 and returns that dtype, which is
what ``eager`` casts its float32 softmax to before multiplying by the values), so one
matrix of probabilities is kept per layer instead of two. Against ``eager`` it differs by
at most 5e-4 in bfloat16 (SDPA's flash kernel differs by 1.6e-2).

Used as a registered transformers attention implementation (``AttentionInterface``) with
SDPA's masks, switched on for the length of a training run by ``plain_attention(model)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

NAME = "familiar_cpu_training"
MAX_SAVED_BYTES = 64 * 2**20


def _plain_fits(query: torch.Tensor, key: torch.Tensor, dropout: float, kwargs: dict) -> bool:
    if query.device.type != "cpu" or not torch.is_grad_enabled() or dropout:
        return False
    if kwargs.get("softcap") is not None or kwargs.get("position_bias") is not None:
        return False
    batch, heads, q_len, _ = query.shape
    return batch * heads * q_len * key.shape[2] * query.element_size() <= MAX_SAVED_BYTES


def attention_forward(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    is_causal: bool | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """transformers' attention signature: [B, H, T, D] in, [B, T, H, D] out."""
    from transformers.integrations.sdpa_attention import repeat_kv, sdpa_attention_forward

    if not _plain_fits(query, key, dropout, kwargs):
        return sdpa_attention_forward(
            module,
            query,
            key,
            value,
            attention_mask,
            dropout=dropout,
            scaling=scaling,
            is_causal=is_causal,
            **kwargs,
        )
    groups = getattr(module, "num_key_value_groups", 1)
    key, value = repeat_kv(key, groups), repeat_kv(value, groups)
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    scores = torch.matmul(query * scale, key.transpose(2, 3))
    keep = _mask(attention_mask, is_causal, module, query.shape[2], key.shape[2], query.device)
    if keep is not None:
        scores = scores.masked_fill(~keep, torch.finfo(scores.dtype).min)
    probs = torch.softmax(scores, dim=-1)
    return torch.matmul(probs, value).transpose(1, 2).contiguous(), None


def _mask(
    mask: torch.Tensor | None,
    is_causal: bool | None,
    module: torch.nn.Module,
    q_len: int,
    k_len: int,
    device: torch.device,
) -> torch.Tensor | None:
    """SDPA's boolean mask (True: attend), or the causal one SDPA would infer from None."""
    if mask is not None:
        return mask if mask.dtype == torch.bool else mask == 0
    causal = is_causal if is_causal is not None else getattr(module, "is_causal", True)
    if not causal or q_len == 1:
        return None
    return torch.ones(q_len, k_len, dtype=torch.bool, device=device).tril(k_len - q_len)


def _register() -> None:
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    AttentionInterface.register(NAME, attention_forward)
    ALL_MASK_ATTENTION_FUNCTIONS.register(NAME, sdpa_mask)


@contextmanager
def plain_attention(model: Any) -> Iterator[bool]:
    """Within: ``model`` (on a CPU, using SDPA) runs ``attention_forward``; yields whether."""
    config = getattr(model, "config", None)
    on_cpu = next(model.parameters()).device.type == "cpu"
    if not on_cpu or getattr(config, "_attn_implementation", None) != "sdpa":
        yield False
        return
    _register()
    model.set_attn_implementation(NAME)
    try:
        yield config._attn_implementation == NAME
    finally:
        model.set_attn_implementation("sdpa")
