"""GRACE: the score from stored gradients and the projected gradients themselves.

(a) ``app.metrics.grace`` against an independent numpy transcription of the reference's
formula (``GRACE/GRACE_computation.py``) on the same gradients, 1e-6 relative; (b) the
batched LoRA and the full per-example gradients against a plain backward per example
(through a real peft adapter, projected with the dense matrix), 1e-4.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from app.metrics import grace as grace_metric
from app.metrics.registry import get_metric
from tests.scoring.tiny import tiny_llama
from workers.scoring.gradients import (
    GradientSettings,
    lora_down,
    projected_gradients,
    response_loss,
)
from workers.scoring.items import ScoreItem
from workers.scoring.projection import dense_matrix

ITEMS = [
    ScoreItem((1, 5, 6, 7), (8, 9, 10, 11, 3)),
    ScoreItem((1, 5), (12, 13, 3)),
    ScoreItem((1, 6, 7, 8, 9, 10, 11), (14, 15, 3)),
]


def reference_grace(grads: np.ndarray, per_prompt: int) -> float:
    """The reference's computation, written out independently (its defaults)."""
    n_prompts = grads.shape[0] // per_prompt
    n_test = max(1, int(n_prompts * 0.1))
    grouped = grads.reshape(n_prompts, per_prompt, grads.shape[1])
    values = []
    for seed in range(10):
        perm = np.random.default_rng(seed).permutation(n_prompts)
        train = grouped[perm][: n_prompts - n_test].reshape(-1, grads.shape[1])
        test = grouped[perm][n_prompts - n_test :].reshape(-1, grads.shape[1])
        train = train / np.maximum(np.sqrt((train**2).sum(axis=1, keepdims=True)), 1e-12)
        k_train = np.einsum("ni,nj->ij", train, train) / train.shape[0]
        k_test = np.einsum("ni,nj->ij", test, test) / test.shape[0]
        w, v = np.linalg.eigh(k_train)
        w = np.maximum(w, 1e-12)
        w = np.maximum(0.999 * w + 0.001 * w.sum() / w.size, 1e-12)
        inverse = v @ np.diag(1.0 / w) @ v.T
        values.append(np.sum(inverse * k_test.T))  # trace(inverse @ k_test)
    return float(np.mean(values))


@pytest.mark.parametrize(("n", "per_prompt", "dim"), [(50, 1, 512), (40, 4, 32), (7, 1, 16)])
def test_score_matches_the_reference_formula(n: int, per_prompt: int, dim: int) -> None:
    rng = np.random.default_rng(n)
    grads = rng.normal(size=(n, dim)) * rng.uniform(0.1, 3.0, size=(n, 1))
    ours = grace_metric.grace_score(grads, per_question=per_prompt)
    assert ours == pytest.approx(reference_grace(grads, per_prompt), rel=1e-6)


def test_score_hook_orders_rows_by_question_key() -> None:
    rng = np.random.default_rng(1)
    grads = rng.normal(size=(12, 8))
    shuffled = {str(k): grads[k] for k in rng.permutation(12)}
    assert grace_metric.score(shuffled) == pytest.approx(reference_grace(grads, 1), rel=1e-9)
    assert math.isnan(grace_metric.score({"1": grads[0]}))


def test_registry_entry_follows_the_reference() -> None:
    m = get_metric("grace")
    assert m.lower_is_better and m.role == "familiarity" and m.selectable
    assert m.needs == ("gradients",) and m.aggregate == "app.metrics.grace:score"


def _peft_b_gradients(model, item: ScoreItem, seed: int) -> torch.Tensor:  # type: ignore[no-untyped-def]
    """One backward through a real peft adapter whose A are the seeded draw."""
    from peft import LoraConfig, get_peft_model

    downs = lora_down(model, seed)
    config = LoraConfig(
        r=16,
        lora_alpha=32,
        target_modules=["q_proj", "k_proj", "v_proj", "gate_proj", "up_proj", "down_proj"],
    )
    wrapped = get_peft_model(model, config)
    try:
        with torch.no_grad():
            for name, module in wrapped.named_modules():
                if hasattr(module, "lora_A") and name.endswith("_proj"):
                    module.lora_A["default"].weight.copy_(downs[name[len("base_model.model.") :]])
        ids = torch.tensor([list(item.prefix_ids) + list(item.response_ids)])
        labels = ids.clone()
        labels[0, : len(item.prefix_ids)] = -100
        wrapped(input_ids=ids, labels=labels).loss.backward()
        grads = [p.grad.reshape(-1) for n, p in wrapped.named_parameters() if "lora_B" in n]
        return torch.cat(grads)
    finally:
        wrapped.unload()


def test_batched_lora_gradient_matches_a_per_example_backward() -> None:
    model = tiny_llama()
    settings = GradientSettings(mode="lora", dim=64, seed=5, token_budget=64)
    batched = projected_gradients(model, ITEMS, settings, limit=256, pad_id=0)
    for item, got in zip(ITEMS, batched, strict=True):
        raw = _peft_b_gradients(model, item, seed=5)
        expected = raw @ dense_matrix(raw.numel(), dim=64, seed=5) / math.sqrt(raw.numel())
        assert float(raw.norm()) > 0
        torch.testing.assert_close(torch.tensor(got.vector), expected, rtol=1e-4, atol=1e-6)
        assert got.grad_norm == pytest.approx(float(raw.norm()), rel=1e-4)
    assert all(p.grad is None and not p.requires_grad for p in model.parameters())


def test_full_gradient_matches_a_plain_backward() -> None:
    model = tiny_llama()
    settings = GradientSettings(mode="full", dim=32, seed=2)
    got = projected_gradients(model, ITEMS[:1], settings, limit=256, pad_id=0)[0]
    item = ITEMS[0]
    params = [p.requires_grad_() for p in model.parameters()]
    ids = torch.tensor([list(item.prefix_ids) + list(item.response_ids)])
    labels = ids.clone()
    labels[0, : len(item.prefix_ids)] = -100
    loss = model(input_ids=ids, labels=labels).loss
    raw = torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, params)])
    expected = raw @ dense_matrix(raw.numel(), dim=32, seed=2) / math.sqrt(raw.numel())
    torch.testing.assert_close(torch.tensor(got.vector), expected, rtol=1e-4, atol=1e-6)
    assert got.n_tokens == len(item.response_ids)


def test_response_loss_is_the_mean_over_response_tokens() -> None:
    model = tiny_llama()
    ids = torch.tensor([[1, 5, 6, 7, 8]])
    weights = torch.tensor([[0.0, 0.0, 0.5, 0.5]])
    labels = torch.tensor([[-100, -100, -100, 7, 8]])
    with torch.no_grad():
        expected = model(input_ids=ids, labels=labels).loss
        got = response_loss(model, ids, torch.ones_like(ids), weights)
    assert float(got) == pytest.approx(float(expected), rel=1e-5)
