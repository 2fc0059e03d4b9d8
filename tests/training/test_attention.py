"""Plain matmul attention for CPU training equals SDPA, masks included, and stays in bounds."""

from __future__ import annotations

import pytest
import torch

from tests.scoring.tiny import tiny_llama
from workers.training import attention


def _batch() -> dict[str, torch.Tensor]:
    torch.manual_seed(1)
    ids = torch.randint(5, 100, (3, 12))
    mask = torch.ones_like(ids)
    mask[0, 9:] = 0  # right padding (training)
    mask[1, :4] = 0  # left padding: only a correct mask keeps these keys out
    return {"input_ids": ids, "attention_mask": mask}


def _forward_backward(model, batch) -> tuple[torch.Tensor, torch.Tensor]:
    embeds = model.get_input_embeddings()(batch["input_ids"]).detach().requires_grad_(True)
    logits = model(inputs_embeds=embeds, attention_mask=batch["attention_mask"]).logits
    keep = batch["attention_mask"].bool()
    logits[keep].square().mean().backward()
    return logits[keep].detach(), embeds.grad[keep]


@pytest.mark.parametrize("padded", [True, False])
def test_plain_attention_equals_sdpa_forward_and_backward(monkeypatch, padded) -> None:
    model = tiny_llama()
    assert model.config._attn_implementation == "sdpa"
    batch = _batch()
    if not padded:
        batch["attention_mask"] = torch.ones_like(batch["input_ids"])
    expected = _forward_backward(model, batch)
    taken: list[bool] = []
    real = attention._plain_fits
    monkeypatch.setattr(attention, "_plain_fits", lambda *a: taken.append(real(*a)) or taken[-1])
    with attention.plain_attention(model) as on:
        assert on and model.config._attn_implementation == attention.NAME
        got = _forward_backward(model, batch)
    assert taken and all(taken)  # every layer took the plain path
    assert model.config._attn_implementation == "sdpa"  # switched back
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=2e-5)


def test_big_batches_and_no_grad_keep_sdpa(monkeypatch) -> None:
    model, batch = tiny_llama(), _batch()
    taken: list[bool] = []
    real = attention._plain_fits
    monkeypatch.setattr(attention, "_plain_fits", lambda *a: taken.append(real(*a)) or taken[-1])
    with attention.plain_attention(model):
        with torch.no_grad():
            model(**batch)
        assert taken and not any(taken)
        taken.clear()
        # 3 x 4 heads x 12 x 12 float32 scores = 6912 bytes: one byte less is too big
        monkeypatch.setattr(attention, "MAX_SAVED_BYTES", 3 * 4 * 12 * 12 * 4 - 1)
        expected = model(**batch).logits
        assert taken and not any(taken)
    torch.testing.assert_close(expected, model(**batch).logits)
