"""Validation of a checkpoint: loss on the strategy's own validation responses, accuracy
on greedy answers generated in the training prompt, scored by the caller's rule."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from workers.scoring.generate import generate_greedy
from workers.scoring.prompts import chat_prompt_text, encode
from workers.training.batching import PadCollator
from workers.training.examples import encode_example
from workers.training.types import ValExample

StopCheck = Callable[[], None]  # raises when the run must stop


def validation_loss(
    model: Any,
    tokenizer: Any,
    val: Sequence[ValExample],
    *,
    max_length: int,
    batch_size: int,
    eot: int,
    pad_id: int,
    check: StopCheck,
) -> float | None:
    """Mean NLL per response token (end-of-turn included) of the validation responses."""
    rows = [
        encode_example(tokenizer, v.question, v.response, max_length, eot=eot)
        for v in val
        if v.response
    ]
    if not rows:
        return None
    rows.sort(key=lambda r: r.length)
    collate, device = PadCollator(pad_id), next(model.parameters()).device
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            check()
            batch = collate(
                [
                    {"input_ids": r.input_ids, "labels": r.labels}
                    for r in rows[start : start + batch_size]
                ]
            )
            batch = {k: v.to(device) for k, v in batch.items()}
            n = int((batch["labels"][:, 1:] != -100).sum())
            total += float(model(**batch).loss) * n
            count += n
    return total / count if count else None


def validation_accuracy(
    model: Any,
    tokenizer: Any,
    val: Sequence[ValExample],
    *,
    max_new_tokens: int,
    score: Callable[[str, str], bool],
    check: StopCheck,
) -> tuple[float | None, list[str]]:
    """Share of validation questions whose greedy answer ``score`` accepts, and the answers."""
    if not val:
        return None, []
    prompts = [encode(tokenizer, chat_prompt_text(tokenizer, v.question)) for v in val]
    outputs = generate_greedy(
        model,
        tokenizer,
        prompts,
        max_new_tokens=max_new_tokens,
        on_progress=lambda done, total: check(),
    )
    correct = sum(bool(score(out, v.gold)) for out, v in zip(outputs, val, strict=True))
    return correct / len(val), outputs
