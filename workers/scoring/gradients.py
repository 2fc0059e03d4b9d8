"""Per-example gradients of the frozen target's response loss, projected (GRACE's input).

Each item is (prompt ids, response ids + the end-of-turn token); its loss is the mean NLL
of the response tokens (the reference's ``labels`` with the prompt masked). Two modes, as
the reference offers (``GRACE/gradient_computation.py``):

- ``lora``: the gradients of the B matrices of a freshly initialised LoRA adapter (rank 16,
  alpha 32, on q/k/v/gate/up/down projections, the reference's setting; A drawn as peft
  draws it, U(-1/sqrt(in), 1/sqrt(in)), from ``seed``; B = 0, so the model computes exactly
  the base model's function). For a linear layer y = W x + s B A x the gradient of B is
  s * sum_t dy_t (A x_t)^T, so ONE batched backward gives every example's B gradients: a
  forward hook keeps A x, a hook on the output's gradient forms the per-example outer
  products. No adapter is attached; the base weights are never touched.
- ``full``: the gradients of every weight, one backward per example (on a CPU the
  projection of ~10^8 coordinates per example dominates; ``auto`` picks full on a GPU).

Gradients are flattened module by module (named order, each B as out x r, row-major) and
projected by ``workers.scoring.projection`` several examples at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from workers.scoring.items import ScoreItem, clip_response
from workers.scoring.projection import project

LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "gate_proj", "up_proj", "down_proj")
LORA_RANK, LORA_ALPHA = 16, 32


@dataclass(frozen=True)
class GradientSettings:
    mode: str = "lora"  # "lora" | "full" (resolved, never "auto")
    dim: int = 512
    seed: int = 0
    token_budget: int = 2048  # rows x longest sequence per batched backward
    project_every: int = 32  # examples whose raw gradients are projected together


@dataclass
class ProjectedGradient:
    vector: list[float]
    n_tokens: int
    truncated: bool
    grad_norm: float  # of the raw gradient, before projection


def resolve_mode(mode: str, device: str) -> str:
    """``auto``: full gradients on a GPU, LoRA gradients on a CPU."""
    if mode == "auto":
        return "full" if str(device).startswith("cuda") else "lora"
    return mode


def lora_modules(model: Any) -> list[tuple[str, torch.nn.Linear]]:
    """The linear layers a LoRA adapter of the reference's targets wraps, in named order."""
    return [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and name.rsplit(".", 1)[-1] in LORA_TARGETS
    ]


def lora_down(model: Any, seed: int) -> dict[str, torch.Tensor]:
    """Seeded A matrices (rank x in) of a fresh adapter, peft's default distribution."""
    generator = torch.Generator().manual_seed(seed)
    out = {}
    for name, module in lora_modules(model):
        bound = 1.0 / math.sqrt(module.in_features)
        a = (torch.rand(LORA_RANK, module.in_features, generator=generator) * 2 - 1) * bound
        out[name] = a.to(module.weight.device, module.weight.dtype)
    return out


def _batch(
    items: Sequence[ScoreItem], limit: int, pad_id: int, device: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[int], list[bool]]:
    """Right-padded ids, attention mask, loss weights (1/n on response targets), counts."""
    rows, spans, truncated = [], [], []
    for item in items:
        response, cut = clip_response(item, limit)
        rows.append(list(item.prefix_ids) + list(response))
        spans.append((len(item.prefix_ids), len(response)))
        truncated.append(cut)
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    weights = torch.zeros((len(rows), width - 1), dtype=torch.float32)
    for i, (row, (start, n)) in enumerate(zip(rows, spans, strict=True)):
        ids[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
        if n:  # logits at position p predict token p + 1
            weights[i, start - 1 : start - 1 + n] = 1.0 / n
    counts = [n for _, n in spans]
    return ids.to(device), mask.to(device), weights.to(device), counts, truncated


def response_loss(model: Any, ids: torch.Tensor, mask: torch.Tensor, weights: torch.Tensor):  # type: ignore[no-untyped-def]
    """Sum over rows of each row's mean NLL over its response tokens."""
    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
    nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), ids[:, 1:], reduction="none")
    return (nll * weights).sum()


def _lora_batch_grads(
    model: Any, downs: dict[str, torch.Tensor], batch: tuple[Any, ...]
) -> torch.Tensor:
    """Every row's flattened B gradients (rows x D) from one batched backward."""
    ids, mask, weights = batch[:3]
    scale = LORA_ALPHA / LORA_RANK
    grads: dict[str, torch.Tensor] = {}
    handles = [model.get_input_embeddings().register_forward_hook(_requires_grad)]
    for name, module in lora_modules(model):
        handles.append(module.register_forward_hook(_outer_product_hook(name, downs, grads)))
    try:
        with torch.enable_grad():
            response_loss(model, ids, mask, weights).backward()
    finally:
        for handle in handles:
            handle.remove()
    order = [name for name, _ in lora_modules(model)]
    return torch.cat([scale * grads[n].flatten(1) for n in order], dim=1)


def _requires_grad(_module: Any, _inputs: Any, output: torch.Tensor) -> torch.Tensor:
    return output.detach().requires_grad_()


def _outer_product_hook(
    name: str, downs: dict[str, torch.Tensor], grads: dict[str, torch.Tensor]
) -> Callable[..., None]:
    def hook(_module: Any, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        ax = inputs[0].detach() @ downs[name].T  # (rows, T, r)

        def on_grad(grad: torch.Tensor) -> None:
            grads[name] = torch.einsum("bto,btr->bor", grad.float(), ax.float())

        output.register_hook(on_grad)

    return hook


def full_gradient(model: Any, batch: tuple[Any, ...]) -> torch.Tensor:
    """One example's gradient of every weight, flattened (1 x D)."""
    params = [p for _, p in model.named_parameters()]
    with torch.enable_grad():
        for p in params:
            p.requires_grad_(True)
        try:
            loss = response_loss(model, *batch[:3])
            grads = torch.autograd.grad(loss, params)
        finally:
            for p in params:
                p.requires_grad_(False)
    return torch.cat([g.reshape(-1).float() for g in grads]).unsqueeze(0)


def batches(
    items: Sequence[ScoreItem], settings: GradientSettings, limit: int
) -> Iterator[list[int]]:
    """Indices of items batched so rows x longest length stays within the token budget."""
    if settings.mode == "full":
        yield from ([i] for i in range(len(items)))
        return
    current: list[int] = []
    longest = 0
    for i, item in enumerate(items):
        length = min(len(item.prefix_ids) + len(item.response_ids), limit)
        if current and max(longest, length) * (len(current) + 1) > settings.token_budget:
            yield current
            current, longest = [], 0
        current.append(i)
        longest = max(longest, length)
    if current:
        yield current


def projected_gradients(
    model: Any,
    items: Sequence[ScoreItem],
    settings: GradientSettings,
    *,
    limit: int,
    pad_id: int,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[ProjectedGradient]:
    """Every item's projected gradient (input order), ``settings.project_every`` at a time."""
    device = str(next(model.parameters()).device)
    downs = lora_down(model, settings.seed) if settings.mode == "lora" else {}
    out: list[ProjectedGradient | None] = [None] * len(items)
    pending: list[tuple[int, torch.Tensor, int, bool]] = []
    done = 0
    for indices in batches(items, settings, limit):
        batch = _batch([items[i] for i in indices], limit, pad_id, device)
        raw = _lora_batch_grads(model, downs, batch) if downs else full_gradient(model, batch)
        pending += [(i, raw[j], batch[3][j], batch[4][j]) for j, i in enumerate(indices)]
        if len(pending) >= settings.project_every:
            _flush(pending, out, settings)
        done += len(indices)
        if on_progress is not None:
            on_progress(done, len(items))
    _flush(pending, out, settings)
    return [g for g in out if g is not None]


def _flush(
    pending: list[tuple[int, torch.Tensor, int, bool]],
    out: list[ProjectedGradient | None],
    settings: GradientSettings,
) -> None:
    if not pending:
        return
    raw = torch.stack([g for _, g, _, _ in pending])
    projected = project(raw, dim=settings.dim, seed=settings.seed).cpu()
    norms = raw.norm(dim=1).cpu()
    for row, (i, _, n_tokens, truncated) in enumerate(pending):
        out[i] = ProjectedGradient(projected[row].tolist(), n_tokens, truncated, float(norms[row]))
    pending.clear()
