"""The LM head on the scored positions only: per-token NLL in cache-sized float32 slices."""

from __future__ import annotations

from typing import Any

import torch

SHAPE_MULTIPLE = 16  # CPU batch widths and LM-head rows are rounded up to this


def lm_logits(model: Any, hidden: torch.Tensor) -> torch.Tensor:
    """The model's output logits for ``hidden`` (LM head + final soft-capping/scale), fp32."""
    logits = model.get_output_embeddings()(hidden).float()
    scale = getattr(model, "logit_scale", None)
    if isinstance(scale, (int, float)):
        logits = logits * scale
    cap = getattr(model.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return logits


def token_nll(
    model: Any, hidden: torch.Tensor, targets: torch.Tensor, logit_budget: int
) -> torch.Tensor:
    """Per-token NLL (float32) of ``targets`` from predictor states, LM head in slices.

    Slices are small (``logit_budget`` logits) so that the float32 log-softmax of a slice
    stays in cache; ``log_softmax(..., dtype=float32)`` upcasts and normalises in one fused
    pass, about 3x faster on CPU than upcasting the logits and taking ``logsumexp``.
    """
    head = model.get_output_embeddings()
    vocab = head.weight.shape[0]
    step = max(1, logit_budget // vocab)
    plain = not _has_logit_transform(model)
    out = []
    for start in range(0, hidden.shape[0], step):
        chunk, picked = hidden[start : start + step], targets[start : start + step, None]
        n = chunk.shape[0]
        if n % SHAPE_MULTIPLE and hidden.device.type == "cpu":  # a reused kernel shape
            chunk = torch.nn.functional.pad(chunk, (0, 0, 0, SHAPE_MULTIPLE - n % SHAPE_MULTIPLE))
        logits = (head(chunk) if plain else lm_logits(model, chunk))[:n]
        logprobs = torch.log_softmax(logits, dim=1, dtype=torch.float32)
        out.append(-logprobs.gather(1, picked)[:, 0])
    return torch.cat(out)


def _has_logit_transform(model: Any) -> bool:
    scale = getattr(model, "logit_scale", None)
    return isinstance(scale, (int, float)) or bool(
        getattr(model.config, "final_logit_softcapping", None)
    )
