"""The slow, plain way to GRACE's LoRA gradients, as the reference script takes them.

A peft LoRA adapter (the reference's rank, alpha and targets, A set to the same seeded
draw as ``workers.scoring.gradients.lora_down``, B = 0) is attached, and each example gets
its own forward and backward; the ``lora_B`` gradients are read off the parameters in
named order and projected one example at a time. Tests compare the batched path with it
and ``bench/grace_bench.py`` times both. The adapter is removed afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from workers.scoring.gradients import (
    LORA_ALPHA,
    LORA_RANK,
    LORA_TARGETS,
    GradientSettings,
    ProjectedGradient,
    _batch,
    lora_down,
    response_loss,
)
from workers.scoring.items import ScoreItem
from workers.scoring.projection import project


def attach_fresh_lora(model: Any, seed: int) -> Any:
    """The model wrapped in a fresh adapter whose A matrices are ``lora_down(model, seed)``."""
    from peft import LoraConfig, get_peft_model

    downs = lora_down(model, seed)
    config = LoraConfig(
        r=LORA_RANK, lora_alpha=LORA_ALPHA, lora_dropout=0.0, target_modules=list(LORA_TARGETS)
    )
    wrapped = get_peft_model(model, config)
    with torch.no_grad():
        for name, module in wrapped.named_modules():
            if hasattr(module, "lora_A") and name.rsplit(".", 1)[-1] in LORA_TARGETS:
                module.lora_A["default"].weight.copy_(downs[name.removeprefix("base_model.model.")])
    return wrapped


def per_example_lora_gradients(
    model: Any, items: Sequence[ScoreItem], settings: GradientSettings, *, limit: int, pad_id: int
) -> list[ProjectedGradient]:
    """One forward and backward per example through a real adapter (the reference's way)."""
    wrapped = attach_fresh_lora(model, settings.seed)
    device = str(next(model.parameters()).device)
    out = []
    try:
        b_params = [p for n, p in wrapped.named_parameters() if "lora_B" in n]
        for item in items:
            batch = _batch([item], limit, pad_id, device)
            wrapped.zero_grad(set_to_none=True)
            with torch.enable_grad():
                response_loss(wrapped, *batch[:3]).backward()
            raw = torch.cat([p.grad.reshape(-1).float() for p in b_params]).unsqueeze(0)
            vector = project(raw, dim=settings.dim, seed=settings.seed)[0]
            out.append(
                ProjectedGradient(vector.tolist(), batch[3][0], batch[4][0], float(raw.norm()))
            )
    finally:
        wrapped.unload()
    return out
